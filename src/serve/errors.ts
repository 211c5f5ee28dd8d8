// OpenAI error objects: every failure the server answers is
//   { "error": { "message": ..., "type": ..., "param": ..., "code": ... } }
// with the HTTP status OpenAI uses for it, so the official clients raise the matching error class
// (BadRequestError, AuthenticationError, NotFoundError, RateLimitError, ...).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  toJSON(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400 for a request field: missing, mistyped or out of range. */
export function badParam(param: string, message: string, code: string | null = 'invalid_value'): ApiError {
  return new ApiError(400, message, 'invalid_request_error', param, code);
}

export const errors = {
  invalidJson: (why: string) => new ApiError(400, `We could not parse the JSON body of your request (${why}). Send a JSON object with Content-Type: application/json.`, 'invalid_request_error', null, 'invalid_json'),
  unknownModel: (model: string, served: string) => new ApiError(404, `The model '${model}' does not exist. This server serves '${served}' (see GET /v1/models).`, 'invalid_request_error', 'model', 'model_not_found'),
  missingKey: () => new ApiError(401, "You didn't provide an API key. Send it in an Authorization header: 'Authorization: Bearer YOUR_KEY'.", 'invalid_request_error', null, 'missing_api_key'),
  wrongKey: () => new ApiError(401, 'Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key'),
  tooLarge: (limit: number) => new ApiError(413, `The request body is larger than this server's limit of ${limit} bytes.`, 'invalid_request_error', null, 'request_too_large'),
  queueFull: (limit: number) => new ApiError(429, `The server is busy: ${limit} sequences are already waiting. Retry shortly.`, 'rate_limit_error', null, 'rate_limit_exceeded'),
  notFound: (method: string, path: string) => new ApiError(404, `Unknown route: ${method} ${path}. Routes: GET /v1/models, POST /v1/chat/completions, POST /v1/completions, GET /health, GET /.`, 'invalid_request_error', null, 'unknown_url'),
  methodNotAllowed: (method: string, path: string, allowed: string) => new ApiError(405, `${method} is not allowed on ${path}; use ${allowed}.`, 'invalid_request_error', null, 'method_not_allowed'),
  contextLength: (limit: number, prompt: number, completion: number, param: string) =>
    new ApiError(
      400,
      `This model's maximum context length is ${limit} tokens. However, you requested ${prompt + completion} tokens (${prompt} in the ${param}, ${completion} in the completion). Please reduce the length of the messages or completion.`,
      'invalid_request_error',
      param,
      'context_length_exceeded',
    ),
  forbiddenHost: (host: string) =>
    new ApiError(403, `Host '${host}' is not this server's name. Use localhost or its address, or start the server with --allowed-host NAME (this check stops DNS-rebinding web pages).`, 'invalid_request_error', null, 'forbidden_host'),
  forbiddenOrigin: (origin: string) =>
    new ApiError(403, `Requests from web pages of ${origin} are not allowed; start the server with --cors ${origin} to allow them.`, 'invalid_request_error', null, 'forbidden_origin'),
  badUri: () => new ApiError(400, 'The request path is not valid percent-encoded UTF-8.', 'invalid_request_error', null, 'invalid_uri'),
  neverFits: (sequences: number, capacity: number) =>
    new ApiError(400, `This request needs ${sequences} sequences (prompts x n) but this server holds at most ${capacity} at a time (--max-batch + --max-queue); split it into smaller requests.`, 'invalid_request_error', 'prompt', 'too_many_sequences'),
  promptTooLong: (limit: number, length: string, param: string) =>
    new ApiError(400, `This model's maximum context length is ${limit} tokens. However, your ${param} ${length}. Please reduce the length of the ${param}.`, 'invalid_request_error', param, 'context_length_exceeded'),
  internal: (why: string) => new ApiError(500, `The server had an error while processing your request: ${why}`, 'server_error', null, 'internal_error'),
};
