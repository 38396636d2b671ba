export type * from './api-contract.js';
