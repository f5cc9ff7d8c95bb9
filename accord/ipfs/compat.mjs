// Node.js 20 lacks Promise.withResolvers (Node 22+), which libp2p's queues use. Imported
// first by node.mjs, so it is in place before any library module runs.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
