export * from './haproxy/haproxy.driver';
export * from './haproxy/haproxy-cli';
export * from './haproxy/haproxy-health';
