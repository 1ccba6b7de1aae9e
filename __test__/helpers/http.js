'use strict';

// Loopback HTTP servers for the import tests. Every server listens on 127.0.0.1 with a
// port chosen by the system and records the requests it receives and the life of each TCP
// connection. close() destroys open sockets, so a stalled response cannot keep a test (or
// the test process) running.

const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const zlib = require('node:zlib');

const HOST = '127.0.0.1';

// Starts a server that calls `handler(request, response)` for every request. With
// `tls: { key, cert }` (PEM), it is an HTTPS server.
//
// Returns { url, port, requests, connections, close() }:
// - url is `http://127.0.0.1:PORT` (or https) without a trailing slash.
// - requests lists { method, url, headers } in arrival order.
// - connections lists { socket, closed } per TCP connection, where `closed` is a promise
//   that resolves when the server side of the socket has closed.
async function startServer(handler, { tls = null } = {}) {
  const requests = [];
  const connections = [];
  const sockets = new Set();

  const listener = (request, response) => {
    requests.push({ method: request.method, url: request.url, headers: request.headers });
    handler(request, response);
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  server.on('connection', (socket) => {
    sockets.add(socket);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    connections.push({ socket, closed });
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  const { port } = server.address();

  let closing = null;
  function close() {
    if (!closing) {
      closing = new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    }
    return closing;
  }

  return { url: `${tls ? 'https' : 'http'}://${HOST}:${port}`, port, requests, connections, close };
}

// Returns a handler that sends `body` (a Buffer or string) with the given status and headers.
function serveBuffer(body, { status = 200, headers = {} } = {}) {
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  return (request, response) => {
    response.writeHead(status, { 'Content-Length': buffer.length, ...headers });
    response.end(buffer);
  };
}

// Returns a handler that sends `text` gzip-compressed, as a carrier's .csv.gz download.
function serveGzip(text, options = {}) {
  return serveBuffer(zlib.gzipSync(Buffer.from(text, 'utf8')), options);
}

// Returns a handler that sends `head` with status 200 and then writes nothing more and never
// ends the response, as a carrier server that hangs in the middle of a body. The response
// is chunked, so the client cannot tell from the headers how much is missing.
function stallAfter(head) {
  const buffer = Buffer.isBuffer(head) ? head : Buffer.from(head, 'utf8');
  return (request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/csv' });
    if (buffer.length > 0) response.write(buffer);
  };
}

// Returns a loopback port that nothing listens on: the system picks a free port, and the
// listener is closed again before the port is returned.
async function closedPort() {
  const listener = net.createServer();
  await new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, HOST, resolve);
  });
  const { port } = listener.address();
  await new Promise((resolve) => listener.close(resolve));
  return port;
}

// Resolves with `promise`, or rejects with a message naming `description` after `ms`
// milliseconds.
// The limit is a safety bound so that a hang fails the test instead of stalling the run.
function within(promise, ms, description) {
  let timer;
  const limit = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${description} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

// Resolves once `condition()` returns true, checking every 10 ms, or rejects after `ms`
// milliseconds with a message naming `description`.
async function waitUntil(condition, description, ms = 5000) {
  let stopped = false;
  const poll = async () => {
    while (!stopped && !condition()) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  try {
    await within(poll(), ms, description);
  } finally {
    stopped = true;
  }
}

module.exports = {
  HOST,
  startServer,
  serveBuffer,
  serveGzip,
  stallAfter,
  closedPort,
  within,
  waitUntil,
};
