// What a WebGPU adapter is, in one line, and whether it is a software rasterizer (Node and pages alike).
export interface AdapterInfo {
  description: string;
  /** A CPU implementation (lavapipe's llvmpipe, SwiftShader): correct, but slower than the CPU backend. */
  software: boolean;
}

/** Dawn's adapter info as one line, and whether it is a software rasterizer. */
export function describeAdapter(info: GPUAdapterInfo): AdapterInfo {
  const description = [info.description, info.vendor, info.architecture, info.device].filter(Boolean).join(' / ');
  const software = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true || /llvmpipe|lavapipe|swiftshader|software/i.test(description);
  return { description, software };
}
