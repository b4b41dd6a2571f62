// The map of the Shimanto open-data page (bundled into pipeline/outputs/web/opendata-map.js).
//
// Reads its configuration from <script type="application/json" id="map-config"> in index.html:
// the published index COGs (read directly with ol/source/GeoTIFF over HTTP range requests), the
// anonymous field outlines, the JIS X 0410 1/2-mesh disease counts and the statistics CSV, all as
// hrefs relative to the page. Opened from file:// (no range requests, no fetch) it leaves the
// plain list in place and says how to serve the folder.
//
// For scripting and tests, window.shimantoMap exposes {map, state, showIndex(name), pixelOf(lon, lat),
// valueAt(pixel)}: the CSS pixel of a WGS84 point and the index value the visible layer holds there.

import Map from 'ol/Map.js';
import View from 'ol/View.js';
import WebGLTileLayer from 'ol/layer/WebGLTile.js';
import GeoTIFF from 'ol/source/GeoTIFF.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import {Fill, Stroke, Style, Text} from 'ol/style.js';
import {ScaleLine, defaults as defaultControls} from 'ol/control.js';
import {register} from 'ol/proj/proj4.js';
import {createEmpty, extend, isEmpty} from 'ol/extent.js';
import {transform} from 'ol/proj.js';
import proj4 from 'proj4';
import 'ol/ol.css';

const $ = (id) => document.getElementById(id);

function setState(state, detail) {
  document.body.dataset.mapState = state;
  window.shimantoMap.state = state;
  const status = $('map-status');
  if (status && detail !== undefined) status.textContent = detail;
}

/** RFC 4180 CSV (quoted fields, CRLF, UTF-8 BOM) -> {header, rows: [{column: value}]}. */
export function parseCsv(text) {
  const records = [];
  let field = '';
  let record = [];
  let quoted = false;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { record.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      record.push(field); records.push(record); record = []; field = '';
    } else field += c;
  }
  if (field !== '' || record.length) { record.push(field); records.push(record); }
  const [header, ...body] = records;
  return {header, rows: body.filter((r) => r.length === header.length)
    .map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])))};
}

function colourExpression(index, stops) {
  const ramp = ['interpolate', ['linear'], ['band', 1]];
  for (const [value, r, g, b] of stops) ramp.push(value, [r, g, b, 1]);
  return ['case', ['==', ['band', 2], 0], [0, 0, 0, 0], ramp];
}

function legend(index, cfg) {
  const stops = cfg.colormap.map(([v, r, g, b]) => {
    const pct = ((v - index.min) / (index.max - index.min)) * 100;
    return `rgb(${r},${g},${b}) ${pct.toFixed(1)}%`;
  });
  $('map-legend-title').textContent = `${index.label}（${index.unit}）`;
  $('map-legend-bar').style.background = `linear-gradient(to right, ${stops.join(', ')})`;
  $('map-legend-min').textContent = String(index.min);
  $('map-legend-max').textContent = String(index.max);
}

function showRows(title, header, rows) {
  const box = $('map-selection');
  box.replaceChildren();
  const h = document.createElement('h3');
  h.textContent = title;
  box.append(h);
  const table = document.createElement('table');
  table.id = 'map-selection-table';
  const head = table.insertRow();
  for (const col of header) {
    const th = document.createElement('th');
    th.textContent = col;
    head.append(th);
  }
  for (const row of rows) {
    const tr = table.insertRow();
    for (const col of header) tr.insertCell().textContent = row[col] ?? '';
  }
  box.append(table);
}

async function fetchText(href) {
  const response = await fetch(href);
  if (!response.ok) throw new Error(`${href}: HTTP ${response.status}`);
  return response.text();
}

async function start() {
  const cfgElement = $('map-config');
  if (!cfgElement) return;
  if (location.protocol === 'file:') {
    setState('file', $('map-status').dataset.fileMessage);
    return;
  }
  const cfg = JSON.parse(cfgElement.textContent);
  for (const p of cfg.projections) proj4.defs(p.code, p.proj4);
  register(proj4);
  $('map-panel').hidden = false;
  setState('loading', '地図を読み込んでいます…');

  const indexLayers = {};
  const tileLayers = [];
  for (const index of cfg.indices) {
    indexLayers[index.name] = index.layers.map((l) => {
      const layer = new WebGLTileLayer({
        source: new GeoTIFF({sources: [{url: new URL(l.href, location.href).href}], normalize: false,
          interpolate: false, wrapX: false}),
        style: {color: colourExpression(index, cfg.colormap)},
        visible: false,
        properties: {index: index.name, date: l.date},
      });
      tileLayers.push(layer);
      return layer;
    });
  }

  const geojson = new GeoJSON();
  const first = tileLayers[0].getSource();
  const viewOptions = await first.getView();
  const projection = viewOptions.projection;
  const readFeatures = async (href, kind) => {
    const features = geojson.readFeatures(await fetchText(href),
      {dataProjection: 'EPSG:4326', featureProjection: projection});
    for (const f of features) f.set('kind', kind);
    return features;
  };
  const fieldSource = new VectorSource();
  const meshSource = new VectorSource();
  const [csvText, fieldLists, meshLists] = await Promise.all([
    fetchText(cfg.csv),
    Promise.all(cfg.fields.map((h) => readFeatures(h, 'field'))),
    Promise.all(cfg.meshes.map((h) => readFeatures(h, 'mesh'))),
  ]);
  const csv = parseCsv(csvText);
  fieldSource.addFeatures(fieldLists.flat());
  meshSource.addFeatures(meshLists.flat());
  const meshLayer = new VectorLayer({
    source: meshSource,
    style: (f) => new Style({
      stroke: new Stroke({color: '#c0392b', width: 2, lineDash: [6, 4]}),
      fill: new Fill({color: f.get('fields_with_concern') > 0 ? 'rgba(192,57,43,0.10)' : 'rgba(192,57,43,0.03)'}),
      text: new Text({text: `${f.get('fields_with_concern')}/${f.get('withheld_fields')}`, font: '14px IPAexGothic',
        fill: new Fill({color: '#7b241c'}), stroke: new Stroke({color: '#fff', width: 3})}),
    }),
  });
  const fieldLayer = new VectorLayer({
    source: fieldSource,
    style: new Style({stroke: new Stroke({color: '#ffffff', width: 2}), fill: new Fill({color: 'rgba(0,0,0,0.01)'})}),
  });

  const map = new Map({
    target: 'map',
    layers: [...tileLayers, meshLayer, fieldLayer],
    // No extent constraint (the COG's extent): the 1/2-mesh squares (~500 m) reach beyond it.
    view: new View({center: viewOptions.center, resolution: viewOptions.resolution, projection}),
    controls: defaultControls({attribution: false}).extend([new ScaleLine()]),
  });
  window.shimantoMap.map = map;
  const extent = createEmpty();  // the published fields; else the mesh squares; else the COG
  for (const src of [fieldSource, meshSource]) if (isEmpty(extent) && !isEmpty(src.getExtent())) extend(extent, src.getExtent());
  map.getView().fit(isEmpty(extent) ? viewOptions.extent : extent, {padding: [30, 30, 30, 30]});

  let current = null;
  const showIndex = (name) => {
    const index = cfg.indices.find((i) => i.name === name);
    if (!index) throw new Error(`no index ${name}`);
    current = name;
    for (const [n, layers] of Object.entries(indexLayers)) for (const l of layers) l.setVisible(n === name);
    for (const input of document.querySelectorAll('#map-switcher input')) input.checked = input.value === name;
    legend(index, cfg);
    document.body.dataset.mapIndex = name;
    setState('loading');
    map.once('rendercomplete', () => setState('rendered', `${index.label} を表示しています。圃場をクリックすると統計が出ます。`));
    map.render();
  };
  window.shimantoMap.showIndex = showIndex;
  window.shimantoMap.pixelOf = (lon, lat) => map.getPixelFromCoordinate(transform([lon, lat], 'EPSG:4326', projection));
  window.shimantoMap.valueAt = (pixel) => {
    const layer = (indexLayers[current] || []).find((l) => l.getData(pixel));
    const data = layer && layer.getData(pixel);
    return data ? Array.from(data) : null;
  };

  const switcher = $('map-switcher');
  for (const index of cfg.indices) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'index';
    input.value = index.name;
    input.addEventListener('change', () => showIndex(index.name));
    label.append(input, ` ${index.label}`);
    switcher.append(label);
  }

  map.on('singleclick', (evt) => {
    const hits = map.getFeaturesAtPixel(evt.pixel, {hitTolerance: 2});
    const field = hits.find((f) => f.get('kind') === 'field');
    const mesh = hits.find((f) => f.get('kind') === 'mesh');
    if (field) {
      const id = field.get('id');
      const rows = csv.rows.filter((r) => r[cfg.fieldIdColumn] === id);
      showRows(`圃場 ${id}`, csv.header, rows);
      document.body.dataset.selected = id;
    } else if (mesh) {
      const suspected = mesh.get('suspected') || {};
      const names = Object.entries(suspected).map(([k, n]) => `${cfg.diseaseNames[k] || k} ${n}`).join('; ');
      showRows(`地域メッシュ ${mesh.get('mesh_code')}`, ['2分の1地域メッシュ', '観測日', '非公開の圃場数',
        '病害の疑いがある圃場数', '病害の疑い'], [{
        '2分の1地域メッシュ': mesh.get('mesh_code'), '観測日': mesh.get('date'),
        '非公開の圃場数': mesh.get('withheld_fields'), '病害の疑いがある圃場数': mesh.get('fields_with_concern'),
        '病害の疑い': names}]);
      document.body.dataset.selected = mesh.get('mesh_code');
    }
  });
  showIndex(cfg.indices[0].name);
}

window.shimantoMap = {state: 'starting', map: null, showIndex: null, pixelOf: null, valueAt: null};
const run = () => start().catch((err) => {
  setState('error', `地図を表示できませんでした（${err.message}）。下の一覧からデータを利用できます。`);
  console.error(err);
});
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run);
else run();
