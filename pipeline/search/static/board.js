/* Search board: live status, one HLS video tile per drone, click-to-enlarge.
 * Writes only textContent and attributes (never HTML). Works from file:// (map, sectors, QR codes);
 * video and status need the streaming server, and the banner says which case this is. */
(function () {
  'use strict';
  var snap = JSON.parse(document.getElementById('board-data').textContent);
  var video = snap.video || {lost_after_s: 6, poll_s: 2};
  var served = location.protocol === 'http:' || location.protocol === 'https:';
  var server = 'http://' + snap.stream.host + ':' + snap.stream.http_port;
  var reached = null;  // null: not tried yet, true/false: last playlist request reached the server

  function txt(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }
  function fmtTime(unix) { return new Date(unix * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'; }
  function ago(s) {
    s = Math.max(0, Math.round(s));
    return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  }

  function banner() {
    var el = document.getElementById('conn');
    var state, text;
    if (reached === false) {
      state = 'offline';
      text = 'Offline: the streaming server ' + server + ' is not reachable. Map, sectors and QR codes still work;' +
        ' video and status resume when it answers.';
    } else if (reached === true) {
      state = 'online';
      text = (served ? 'Connected to ' : 'Opened from a file, connected to ') + server + ': live video and status.';
    } else {
      state = 'trying';
      text = (served ? 'Connecting to ' : 'Opened from a file: map, sectors and QR codes work offline; trying ') +
        server + ' for live video…';
    }
    el.setAttribute('data-state', state);
    el.textContent = text;
  }

  function applyBoard(board) {
    board.sectors.forEach(function (s) {
      var st = document.getElementById('status-' + s.id);
      if (st) { st.textContent = s.status; st.setAttribute('data-s', s.status); }
      var t = s.telemetry, marker = document.getElementById('drone-' + s.id);
      if (t) {
        txt('tele-' + s.id, 'alt ' + (t.alt_rel_m == null ? '-' : t.alt_rel_m.toFixed(0)) + ' m, ' +
          (t.groundspeed_m_s == null ? '-' : t.groundspeed_m_s.toFixed(1)) + ' m/s, battery ' +
          (t.battery_pct == null ? '-' : t.battery_pct + ' %') + ', waypoint ' +
          (t.mission_seq == null ? '-' : t.mission_seq) + ', seen ' + fmtTime(t.last_seen_unix));
        if (marker && t.xy) {
          marker.setAttribute('transform', 'translate(' + t.xy[0] + ',' + t.xy[1] + ')');
          marker.setAttribute('visibility', 'visible');
        }
      }
    });
    txt('updated', fmtTime(board.updated_unix));
  }

  /* One tile: polls its playlist to tell planned / live / lost signal, attaches a player while live. */
  function Tile(sector) {
    this.id = sector.id;
    this.url = sector.links.hls;
    this.el = document.getElementById('tile-' + sector.id);
    this.video = this.el.querySelector('video');
    this.state = this.el.querySelector('.vstate');
    this.lastSegment = null;   // URI of the newest segment seen
    this.lastChange = null;    // ms (this clock) when the newest segment appeared
    this.everLive = false;
    this.hls = null;
    this.player = 'none';
  }

  Tile.prototype.show = function (v, label) {
    this.el.setAttribute('data-video', v);
    this.state.setAttribute('data-v', v);
    this.state.textContent = label;
  };

  Tile.prototype.attach = function () {
    if (this.player !== 'none') return;
    var v = this.video, self = this;
    v.muted = true;
    v.preload = 'auto';
    // hls.js where the browser has Media Source Extensions, else the browser's own HLS (Safari on iPhone),
    // the order the hls.js README gives (some browsers answer canPlayType 'maybe' but cannot play live HLS).
    var native = v.canPlayType('application/vnd.apple.mpegurl') !== '';
    if (window.Hls && window.Hls.isSupported()) {
      this.player = 'hls.js';
      this.hls = new window.Hls({liveSyncDurationCount: 2, manifestLoadingMaxRetry: 2});
      this.hls.on(window.Hls.Events.ERROR, function (event, data) {
        if (data.fatal) { self.detach(); }
      });
      this.hls.loadSource(this.url);
      this.hls.attachMedia(v);
    } else if (native) {
      this.player = 'native';
      v.src = this.url;
    } else {
      this.player = 'unsupported';
      this.show('refused', 'this browser cannot play HLS: open the HLS link in VLC');
      return;
    }
    this.el.setAttribute('data-player', this.player);
    var p = v.play(); if (p && p.catch) p.catch(function () {});
  };

  Tile.prototype.detach = function () {
    if (this.hls) { this.hls.destroy(); this.hls = null; }
    this.video.removeAttribute('src');
    this.player = 'none';
    this.el.setAttribute('data-player', 'none');
  };

  /* Age of the playlist by the server's own clock (Date - Last-Modified: nginx-rtmp rewrites it for each new
   * segment), in ms; null when the headers are not readable (cross-origin without Access-Control-Expose-Headers). */
  function serverAge(r) {
    var date = Date.parse(r.headers.get('Date') || ''), modified = Date.parse(r.headers.get('Last-Modified') || '');
    return isNaN(date) || isNaN(modified) ? null : Math.max(0, date - modified);
  }

  Tile.prototype.poll = function () {
    var self = this, age = null;
    fetch(this.url, {cache: 'no-store'}).then(function (r) {
      reached = true;
      if (r.status === 403) { self.detach(); self.show('refused', 'link refused or expired'); return null; }
      if (!r.ok) return '';
      age = serverAge(r);
      return r.text();
    }, function () { reached = false; return null; }).then(function (body) {
      if (body === null) { banner(); if (reached === false) self.offline(); return; }
      var segs = body.split('\n').filter(function (l) { return /\.ts(\?|$)/.test(l); });
      var newest = segs.length ? segs[segs.length - 1] : null;
      var now = Date.now();
      if (newest && newest !== self.lastSegment) {
        // first sight: trust the server's clock for how old the newest segment is (a stream that died before
        // the page opened shows "lost signal" at once, with the right time); later: when this page saw it change
        self.lastChange = self.lastSegment === null && age !== null ? now - age : now;
        self.lastSegment = newest;
      }
      if (newest) self.everLive = true;
      var fresh = self.lastChange !== null && (now - self.lastChange) / 1000 < video.lost_after_s;
      if (newest && fresh && body.indexOf('#EXT-X-ENDLIST') < 0) {
        self.show('live', 'live');
        self.attach();
      } else if (self.everLive) {
        self.show('lost', 'lost signal · ' + ago((now - self.lastChange) / 1000) + ' since last segment');
      } else {
        self.show('planned', 'planned · no video yet');
      }
      banner();
    });
  };

  Tile.prototype.offline = function () {
    this.show('offline', this.everLive ? 'server unreachable · ' + ago((Date.now() - this.lastChange) / 1000) +
      ' since last segment' : 'server unreachable');
  };

  function enlarge(tile) {
    var big = document.querySelector('.tile.big');
    if (big) big.classList.remove('big');
    if (tile && tile !== big) tile.classList.add('big');
    document.body.classList.toggle('enlarged', !!document.querySelector('.tile.big'));
  }

  applyBoard(snap);
  banner();
  var tiles = snap.sectors.map(function (s) { return new Tile(s); });
  tiles.forEach(function (t) {
    t.el.addEventListener('click', function (e) {
      if (e.target.closest && e.target.closest('details')) return;  // links and QR stay clickable
      enlarge(t.el);
    });
    t.poll();
  });
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') enlarge(null); });
  setInterval(function () { tiles.forEach(function (t) { t.poll(); }); }, Math.max(0.5, video.poll_s) * 1000);
  if (served) {
    var token = new URLSearchParams(location.search).get('token');
    setInterval(function () {
      var q = (token ? 'token=' + encodeURIComponent(token) + '&' : '') + '_=' + Date.now();
      fetch('board.json?' + q, {cache: 'no-store'}).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (b) { if (b) applyBoard(b); }).catch(function () {});
    }, Math.max(1, snap.poll_s) * 1000);
  }
  window.shimantoBoard = {tiles: tiles};  // for inspection (tests, the browser console)
})();
