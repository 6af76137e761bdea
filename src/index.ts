/**
 * piko-ts SDK: listen on an endpoint and serve its connections from this process, or dial an endpoint, through a
 * piko-ts (or Piko) cluster.
 */
export {
  DialError,
  EndpointListener,
  dial,
  listen,
  listenAndForward,
  serveHttp,
  type DialEndpointOptions,
  type ListenOptions,
  type SdkLogger,
  type TlsOptions,
  type TokenOption,
} from './adapters/client/sdk/sdk.js';
