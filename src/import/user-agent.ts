/** How intake names itself to providers (Zendesk asks integrations to identify themselves). */
export const IMPORT_USER_AGENT = 'intake-import/1.0';
