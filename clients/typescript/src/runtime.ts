/** Web Crypto from the global scope (Node >= 19, browsers, edge runtimes), or Node 18's `node:crypto`. */
export async function webCrypto(): Promise<Crypto> {
  const global = (globalThis as { crypto?: Crypto }).crypto;
  if (global?.subtle) return global;
  const nodeCrypto = 'node:crypto';
  const module = (await import(nodeCrypto)) as { webcrypto: Crypto };
  return module.webcrypto;
}

export async function randomUUID(): Promise<string> {
  return (await webCrypto()).randomUUID();
}
