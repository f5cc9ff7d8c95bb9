// A real IPFS node (helia: libp2p + bitswap) for Accord's `ipfs://` results, with a small
// HTTP API. Started by `accord ipfs serve` (accord/ipfs/service.py); see docs/ipfs.md.
//
// Blocks are raw (codec 0x55) and addressed by sha2-256, so a CID names exactly the bytes it
// holds and any reader can check them without this node. The node talks to the peers it is
// told about (--peer) and to peers that dial it; it has no bootstrap list, no DHT and no
// delegated routing, so it never reaches beyond the addresses its operator gives it.
//
// HTTP API (JSON answers; writes need `Authorization: Bearer $ACCORD_IPFS_TOKEN`):
//   GET  /ipfs/<cid>   the block's bytes: from this node; with the token, else fetched from
//                      connected peers (bitswap) within the fetch timeout (and kept);
//                      404 when nobody has it. Without the token only what the node holds
//                      is served, so a stranger cannot make it fetch and store blocks.
//   POST /blocks       body = the bytes (<= 1 MiB): stored as a raw block -> 201 {"cid"}
//   POST /pins/<cid>   fetch the block from peers and keep it (a pinning node) -> 200 {"cid"}
//   POST /peers        body = a multiaddr with /p2p/<id>: dial it and keep dialling it -> 200
//   GET  /id           {"peerId", "addrs"}
//
// The first line on stdout is JSON {"api", "peerId", "addrs"} once the node is up.

import './compat.mjs'
import { createServer } from 'node:http'
import { mkdirSync, readFileSync, writeFileSync, existsSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { timingSafeEqual } from 'node:crypto'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { Helia } from '@helia/utils'
import { bitswap } from '@helia/block-brokers'
import { FsBlockstore } from 'blockstore-fs'
import { MemoryDatastore } from 'datastore-core'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

const MAX_BLOCK_BYTES = 1024 * 1024
const REDIAL_MS = 2000

const { values: opts } = parseArgs({
  options: {
    dir: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'p2p-host': { type: 'string', default: '127.0.0.1' },
    'p2p-port': { type: 'string', default: '0' },
    peer: { type: 'string', multiple: true, default: [] },
    'fetch-timeout': { type: 'string', default: '10' }
  }
})
if (!opts.dir) fail('--dir is required (where the node keeps its key and blocks)')
const token = process.env.ACCORD_IPFS_TOKEN ?? ''
if (token.length < 16) fail('set ACCORD_IPFS_TOKEN to a secret of at least 16 characters (writes need it)')
const fetchTimeoutMs = Math.max(1, Number(opts['fetch-timeout'])) * 1000

function fail (message) {
  process.stderr.write(`accord-ipfs: ${message}\n`)
  process.exit(2)
}
// anything unforeseen (a taken port, a broken store) is one line, not a stack trace
process.on('uncaughtException', (err) => fail(err.message ?? String(err)))
process.on('unhandledRejection', (err) => fail(err?.message ?? String(err)))

async function loadKey (dir) {
  const path = join(dir, 'peer.key')
  if (existsSync(path)) return privateKeyFromProtobuf(readFileSync(path))
  const key = await generateKeyPair('Ed25519')
  writeFileSync(`${path}.tmp`, privateKeyToProtobuf(key), { mode: 0o600 })
  renameSync(`${path}.tmp`, path)
  return key
}

mkdirSync(join(opts.dir, 'blocks'), { recursive: true })
const privateKey = await loadKey(opts.dir)
const libp2p = await createLibp2p({
  privateKey,
  addresses: { listen: [`/ip4/${opts['p2p-host']}/tcp/${opts['p2p-port']}`] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify() },
  connectionGater: { denyDialMultiaddr: () => false } // loopback and private peers are allowed
})
const blockstore = new FsBlockstore(join(opts.dir, 'blocks'))
await blockstore.open()
const helia = new Helia({
  libp2p,
  blockstore,
  datastore: new MemoryDatastore(),
  blockBrokers: [bitswap()],
  routers: [],
  hashers: [sha256],
  codecs: [raw]
})
await helia.start()

// peers this node keeps dialling (the operator's --peer list and POST /peers)
const peers = new Map()
function peerIdOf (addr) {
  return addr.getComponents().find((c) => c.name === 'p2p')?.value
}
function addPeer (text) {
  const addr = multiaddr(text)
  if (peerIdOf(addr) == null) throw new Error(`'${text}' has no /p2p/<peer id>`)
  peers.set(addr.toString(), addr)
  return addr
}
for (const p of opts.peer) {
  try { addPeer(p) } catch (err) { fail(`--peer ${p}: ${err.message}`) }
}
async function redial () {
  for (const addr of peers.values()) {
    const id = peerIdOf(addr)
    if (libp2p.getConnections().some((c) => c.remotePeer.toString() === id)) continue
    try { await libp2p.dial(addr, { signal: AbortSignal.timeout(REDIAL_MS) }) } catch {}
  }
}
const redialTimer = setInterval(redial, REDIAL_MS)
redial()

function parseCid (text) {
  try {
    return CID.parse(text)
  } catch {
    return null
  }
}

function authorized (req) {
  const given = Buffer.from(req.headers.authorization ?? '')
  const want = Buffer.from(`Bearer ${token}`)
  return given.length === want.length && timingSafeEqual(given, want)
}

function reply (res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function readBody (req, limit) {
  // a body over the limit is read to its end and dropped, so the 413 reaches the client
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
    })
    req.on('end', () => {
      if (size > limit) reject(Object.assign(new Error(`body larger than ${limit} bytes`), { status: 413 }))
      else resolve(Buffer.concat(chunks))
    })
    req.on('error', reject)
  })
}

async function getBlock (cid) {
  const bytes = await helia.blockstore.get(cid, { signal: AbortSignal.timeout(fetchTimeoutMs) })
  // the block store may hand back an async iterable of chunks
  if (bytes instanceof Uint8Array) return bytes
  const parts = []
  for await (const part of bytes) parts.push(part)
  return Buffer.concat(parts)
}

async function handle (req, res) {
  const url = new URL(req.url, 'http://node')
  const path = url.pathname
  if (req.method === 'GET' && path === '/id') {
    return reply(res, 200, { peerId: libp2p.peerId.toString(), addrs: libp2p.getMultiaddrs().map(String) })
  }
  if (req.method === 'GET' && path.startsWith('/ipfs/')) {
    const cid = parseCid(path.slice('/ipfs/'.length))
    if (cid == null) return reply(res, 400, { error: 'not a CID' })
    if (cid.code !== raw.code || cid.multihash.code !== sha256.code) {
      return reply(res, 400, { error: 'this node serves raw sha2-256 blocks only' })
    }
    if (!authorized(req) && !(await helia.blockstore.has(cid))) {
      return reply(res, 404, { error: `${cid} is not held here (fetching it from peers needs the token)` })
    }
    let bytes
    try {
      bytes = await getBlock(cid)
    } catch (err) {
      return reply(res, 404, { error: `no connected peer had ${cid} within ${fetchTimeoutMs / 1000} s` })
    }
    res.writeHead(200, { 'content-type': 'application/vnd.ipld.raw', 'content-length': bytes.length })
    return res.end(bytes)
  }
  if (req.method !== 'POST') return reply(res, 405, { error: 'method not allowed' })
  if (!authorized(req)) return reply(res, 401, { error: 'writes need the bearer token the node was started with' })
  if (path === '/blocks') {
    const body = await readBody(req, MAX_BLOCK_BYTES)
    const cid = CID.createV1(raw.code, await sha256.digest(body))
    await helia.blockstore.put(cid, body)
    return reply(res, 201, { cid: cid.toString() })
  }
  if (path.startsWith('/pins/')) {
    const cid = parseCid(path.slice('/pins/'.length))
    if (cid == null || cid.code !== raw.code || cid.multihash.code !== sha256.code) {
      return reply(res, 400, { error: 'not a raw sha2-256 CID' })
    }
    try {
      await getBlock(cid) // a block fetched over bitswap stays in this node's store
    } catch {
      return reply(res, 404, { error: `no connected peer had ${cid} within ${fetchTimeoutMs / 1000} s` })
    }
    return reply(res, 200, { cid: cid.toString() })
  }
  if (path === '/peers') {
    const text = (await readBody(req, 4096)).toString().trim()
    let addr
    try {
      addr = addPeer(text)
    } catch (err) {
      return reply(res, 400, { error: `not a peer address: ${err.message}` })
    }
    try {
      await libp2p.dial(addr, { signal: AbortSignal.timeout(fetchTimeoutMs) })
    } catch (err) {
      return reply(res, 502, { error: `added, but dialling failed for now: ${err.message}` })
    }
    return reply(res, 200, { peer: addr.toString() })
  }
  return reply(res, 404, { error: 'no such endpoint' })
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) reply(res, err.status ?? 500, { error: err.message })
    else res.destroy()
  })
})
server.listen(Number(opts.port), opts.host, () => {
  const { port } = server.address()
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  process.stdout.write(JSON.stringify({
    api: `http://${host}:${port}`,
    peerId: libp2p.peerId.toString(),
    addrs: libp2p.getMultiaddrs().map(String)
  }) + '\n')
})

let stopping = false
async function shutdown () {
  if (stopping) return
  stopping = true
  clearInterval(redialTimer)
  setTimeout(() => process.exit(0), 1500).unref()
  server.close()
  server.closeAllConnections?.()
  try { await helia.stop() } catch {}
  try { await blockstore.close() } catch {}
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
