export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __devServer?: { stop(): Promise<void> } }).__devServer?.stop();
}
