import { describeDriver } from './support/matrix';
import { startPostgres } from './support/servers';

describeDriver({ driver: 'pg', start: startPostgres, subscribe: true });
