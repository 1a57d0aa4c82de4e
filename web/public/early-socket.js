// The page's first socket, opened while the app's code loads (a classic script in index.html,
// run before any module): its handshake is done by the time the app's event stream starts, so
// the welcome, which every first GET waits for, comes sooner. Only for a stored, unexpired
// login. The event stream takes it (src/realtime/earlySocket.ts) and sends the hello; one
// nobody takes within 5 s is closed. Plain JavaScript: it is served as is, not bundled.
;(function () {
  'use strict'
  try {
    var login = JSON.parse(localStorage.getItem('balsam.auth') || 'null')
    if (!login || typeof login.token !== 'string' || !(login.expiresAt > Date.now())) return
    var scheme = location.protocol === 'https:' ? 'wss' : 'ws'
    var socket = new WebSocket(scheme + '://' + location.host + '/api/v1/subscribe-user')
    window.__balsamEarlySocket = socket
    setTimeout(function () {
      if (window.__balsamEarlySocket !== socket) return
      window.__balsamEarlySocket = null
      socket.close()
    }, 5000)
  } catch {
    // No socket: the app opens its own.
  }
})()
