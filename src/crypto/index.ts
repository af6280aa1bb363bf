export * from './identity.js';
export * from './sign.js';
export * from './agree.js';
export * from './stream.js';
export * from './passphrase.js';
