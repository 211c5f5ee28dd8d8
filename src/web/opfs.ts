// Models kept in the browser's origin-private file system (OPFS), so a model trained in the tab is
// still there after a reload: models/<name>/<file>, copied from and into the in-memory volume.
const root = async (): Promise<FileSystemDirectoryHandle> => (await navigator.storage.getDirectory()).getDirectoryHandle('models', { create: true });

export async function storeModel(name: string, files: Map<string, Uint8Array>): Promise<void> {
  const dir = await (await root()).getDirectoryHandle(name, { create: true });
  for (const [file, data] of files) {
    const w = await (await dir.getFileHandle(file, { create: true })).createWritable();
    await w.write(data as Uint8Array<ArrayBuffer>);
    await w.close();
  }
}

export async function storedModels(): Promise<string[]> {
  const names: string[] = [];
  for await (const [name, handle] of (await root()) as unknown as AsyncIterable<[string, FileSystemHandle]>) if (handle.kind === 'directory') names.push(name);
  return names.sort();
}

export async function readStoredModel(name: string): Promise<Map<string, Uint8Array>> {
  const dir = await (await root()).getDirectoryHandle(name);
  const out = new Map<string, Uint8Array>();
  for await (const [file, handle] of dir as unknown as AsyncIterable<[string, FileSystemFileHandle]>) {
    if (handle.kind === 'file') out.set(file, new Uint8Array(await (await handle.getFile()).arrayBuffer()));
  }
  return out;
}

export async function deleteStoredModel(name: string): Promise<void> {
  await (await root()).removeEntry(name, { recursive: true });
}
