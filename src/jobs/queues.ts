// Moved to the queue port (src/queue/catalogue.ts); kept only while test files of work in progress still import it here.
export { QUEUES } from '../queue/catalogue.ts';
