// Moved to the queue port (src/queue/); kept only while test files of work in progress still import it here.
export { startJobs, type Jobs } from '../queue/boss.ts';
