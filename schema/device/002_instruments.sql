-- 002_instruments.sql - outcome instruments, defined as data.
-- A definition is JSON: items (id and label), the answer range, and how it
-- is scored: "items" reports each item separately (never summed), "table"
-- sums the items and converts the raw total with a table starting at
-- table_from.  A new instrument is a new migration, not new code.
CREATE TABLE instruments (
    code       TEXT PRIMARY KEY,
    definition TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO instruments VALUES ('ons4', '{
 "name": "ONS4 personal wellbeing",
 "min": 0, "max": 10, "scoring": "items",
 "items": [
  {"id": "satisfaction", "label": "Overall, how satisfied are you with your life nowadays?",
   "bands": [[0,4,"low"],[5,6,"medium"],[7,8,"high"],[9,10,"very high"]]},
  {"id": "worthwhile", "label": "Overall, to what extent do you feel that the things you do in your life are worthwhile?",
   "bands": [[0,4,"low"],[5,6,"medium"],[7,8,"high"],[9,10,"very high"]]},
  {"id": "happy", "label": "Overall, how happy did you feel yesterday?",
   "bands": [[0,4,"low"],[5,6,"medium"],[7,8,"high"],[9,10,"very high"]]},
  {"id": "anxious", "label": "Overall, how anxious did you feel yesterday?",
   "bands": [[0,1,"very low"],[2,3,"low"],[4,5,"medium"],[6,10,"high"]]}
 ]
}');

INSERT INTO instruments VALUES ('swemwbs', '{
 "name": "Short Warwick-Edinburgh Mental Wellbeing Scale",
 "min": 1, "max": 5, "scoring": "table",
 "items": [
  {"id": "optimistic", "label": "I''ve been feeling optimistic about the future"},
  {"id": "useful", "label": "I''ve been feeling useful"},
  {"id": "relaxed", "label": "I''ve been feeling relaxed"},
  {"id": "problems", "label": "I''ve been dealing with problems well"},
  {"id": "clearly", "label": "I''ve been thinking clearly"},
  {"id": "close", "label": "I''ve been feeling close to other people"},
  {"id": "mind", "label": "I''ve been able to make up my own mind about things"}
 ],
 "table_from": 7,
 "table": [7.00, 9.51, 11.25, 12.40, 13.33, 14.08, 14.75, 15.32, 15.84, 16.36,
           16.88, 17.43, 17.98, 18.59, 19.25, 19.98, 20.73, 21.54, 22.35, 23.21,
           24.11, 25.03, 26.02, 27.03, 28.13, 29.31, 30.70, 32.55, 35.00]
}');
