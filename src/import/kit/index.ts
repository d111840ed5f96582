/** The import kit: what every adapter needs, written once. */
export { fetchPage, pagingError, type PageRequest } from './fetch-page.ts';
export { selectRecords } from './select-records.ts';
export { fetchUnknown } from './people.ts';
export { afterCursor, advanceWindow, nextLink, nextRecordsUrl, pageNumbers, startWindow, unseen, windowCursorSchema, type Step, type WindowCursor } from './paginators.ts';
export { basicAuthHeader, staticAuth } from '../auth-session.ts';
export { clip } from '../../domain/text.ts';
