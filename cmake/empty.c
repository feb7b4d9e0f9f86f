/* Placeholder so a folder with no sources yet still yields a library. */
typedef int rd_empty_translation_unit;
