-- 007_nhs_person.sql - the NHS number index by person.  Every change to a
-- person (written here or applied from a pull) replaces that person's entry
-- (core/lb_record.c), and finding it by person scanned the whole index: a
-- cost that grew with the people a device holds.
CREATE INDEX nhs_index_person ON nhs_index(person);
