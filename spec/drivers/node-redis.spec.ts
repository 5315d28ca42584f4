import { describeDriver } from './support/matrix';
import { startRedis } from './support/servers';

describeDriver({ driver: 'node-redis', start: startRedis, subscribe: true });
