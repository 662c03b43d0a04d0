-- Users and an audit trigger (its body holds ';', which must not split the statement).
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT
);
CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT NOT NULL);
CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
  INSERT INTO audit (what) VALUES ('insert ' || NEW.email);
  UPDATE audit SET what = upper(what) WHERE id = last_insert_rowid();
END;

-- down
DROP TRIGGER users_audit;
DROP TABLE audit;
DROP TABLE users;
