import { describeHealthyRows } from './support/healthy';

describeHealthyRows('enforce');
