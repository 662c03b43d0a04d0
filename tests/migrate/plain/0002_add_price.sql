-- Migration number: 0002 	 2024-05-02T12:00:00.000Z
ALTER TABLE items ADD COLUMN price REAL;
CREATE INDEX items_name ON items(name);
