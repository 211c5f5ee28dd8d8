// Host memory for the js backend: plain typed arrays, counted so tests can prove that training
// steps do not leak. No pooling here: the js backend favours obviousness over speed.
import { allocHost, bytesPerElement, dtypeOf, type DType, type HostArray } from '../../core/dtype.js';

let live = 0;

export function alloc(dtype: DType, size: number): HostArray {
  live += size * bytesPerElement(dtype);
  return allocHost(dtype, size);
}

export function free(buf: HostArray): void {
  live -= buf.length * bytesPerElement(dtypeOf(buf));
}

export function upload(host: HostArray): HostArray {
  const out = alloc(dtypeOf(host), host.length);
  out.set(host as never);
  return out;
}

export function download(buf: HostArray): HostArray {
  return buf.slice();
}

export function liveBytes(): number {
  return live;
}
