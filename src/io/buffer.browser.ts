// Node's Buffer for the page bundle (the `buffer` package): esbuild injects it where library code
// names the global Buffer (safetensors, token stores and checkpoints build bytes with it).
export { Buffer } from 'buffer';
