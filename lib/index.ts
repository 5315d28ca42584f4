/** timeoutsocket: the public surface (re-exports only). */
export const VERSION = '0.1.0';
