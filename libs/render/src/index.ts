export * from './artifact';
export * from './host-profile';
export { UnknownNodeError } from './node-lookup';
export { renderHaproxyCfg } from './haproxy/haproxy-cfg.renderer';
export { renderNode } from './render-node';
