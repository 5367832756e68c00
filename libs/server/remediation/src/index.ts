export * from './upstream';
export * from './remediation-plan';
