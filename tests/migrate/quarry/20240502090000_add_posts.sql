CREATE TABLE posts (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title TEXT NOT NULL DEFAULT 'untitled; really'
);
CREATE INDEX posts_user ON posts(user_id);

-- down
DROP TABLE posts;
