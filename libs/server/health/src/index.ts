export * from './finding';
export * from './component-report';
export * from './evaluate-cluster';
