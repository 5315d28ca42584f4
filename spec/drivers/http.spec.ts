import { describeDriver } from './support/matrix';
import { startNodeServer } from './support/servers';

describeDriver({ driver: 'http', start: () => startNodeServer('http') });
