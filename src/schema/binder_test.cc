#include "schema/binder.h"

#include <gtest/gtest.h>

#include <random>

#include "schema/ddl.h"
#include "schema/formatter.h"
#include "schema/parser.h"

namespace quarry::schema {
namespace {

Result<Schema> Bind(const std::string& text) {
  QUARRY_ASSIGN_OR_RETURN(ast::File file, ParseSchema(text, "s.schema"));
  ast::Program program;
  program.files.push_back(std::move(file));
  return BindSchema(program);
}

TEST(BinderTest, CarriesValidatorsTransformsAndFlags) {
  auto schema = Bind(R"s(
    model users {
      id        Text     @id @default(uuid())
      email     Text     @unique @email @lower @trim
      site      Text?    @url @map("website")
      name      Text     @length(2, 50) @regex("^[A-Z]")
      age       Integer  @gte(0) @lt(150.5)
      updated   DateTime @updatedAt @default(now())
      slug      Text     @generated("lower(name)", stored: true)
      region    Text
      deletedAt DateTime?
      @@softDelete(cascade)
      @@noStrict
      @@shardKey(region)
      @@map("people")
    })s");
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  const Model& m = schema->models.at(0);
  EXPECT_EQ(m.table, "people");
  EXPECT_TRUE(m.soft_delete);
  EXPECT_TRUE(m.soft_delete_cascade);
  EXPECT_FALSE(m.strict);
  EXPECT_EQ(m.shard_key, "region");
  const Field* email = m.FindField("email");
  ASSERT_NE(email, nullptr);
  EXPECT_TRUE(email->unique);
  ASSERT_EQ(email->validators.size(), 1u);
  EXPECT_EQ(email->validators[0].kind, Validator::Kind::kEmail);
  EXPECT_EQ(email->transforms, (std::vector<Transform>{Transform::kLower, Transform::kTrim}));
  EXPECT_EQ(m.FindField("site")->column, "website");
  const Field* name = m.FindField("name");
  EXPECT_EQ(name->validators[0].min_length, 2);
  EXPECT_EQ(name->validators[0].max_length, 50);
  EXPECT_EQ(name->validators[1].pattern, "^[A-Z]");
  const Field* age = m.FindField("age");
  EXPECT_EQ(age->validators[1].kind, Validator::Kind::kLt);
  EXPECT_DOUBLE_EQ(age->validators[1].bound, 150.5);
  EXPECT_TRUE(m.FindField("updated")->updated_at);
  EXPECT_TRUE(m.FindField("slug")->generated->stored);
  EXPECT_EQ(m.PrimaryKey()->default_value->kind, DefaultValue::Kind::kUuid);
}

TEST(BinderTest, BuildsPolicyTrees) {
  auto schema = Bind(R"s(
    enum Role { admin member }
    model posts {
      id        Integer @id
      accountId Integer
      status    Text
      role      Role
      salary    Real?   @allow('read', auth().role == 'admin')
      @@allow('read', status == 'published' || accountId == auth().accountId)
      @@deny('delete', !(role == 'admin') && auth() != null, "only admins delete")
    })s");
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  const Model& m = schema->models.at(0);
  ASSERT_EQ(m.policies.size(), 2u);
  const Policy& read = m.policies[0];
  EXPECT_TRUE(read.allow);
  EXPECT_EQ(read.operation, PolicyOperation::kRead);
  ASSERT_EQ(read.condition.kind, PolicyExpr::Kind::kOr);
  const PolicyExpr& left = read.condition.operands.at(0);
  EXPECT_EQ(left.kind, PolicyExpr::Kind::kCompare);
  EXPECT_EQ(left.op, PolicyExpr::CompareOp::kEq);
  EXPECT_EQ(left.operands.at(0).kind, PolicyExpr::Kind::kField);
  EXPECT_EQ(left.operands.at(0).name, "status");
  EXPECT_EQ(left.operands.at(1).literal.text, "published");
  const PolicyExpr& right = read.condition.operands.at(1);
  EXPECT_EQ(right.operands.at(1).kind, PolicyExpr::Kind::kAuthField);
  EXPECT_EQ(right.operands.at(1).name, "accountId");
  EXPECT_EQ(right.location.line, 9);

  const Policy& deny = m.policies[1];
  EXPECT_FALSE(deny.allow);
  EXPECT_EQ(deny.operation, PolicyOperation::kDelete);
  EXPECT_EQ(deny.message, "only admins delete");
  EXPECT_EQ(deny.condition.kind, PolicyExpr::Kind::kAnd);
  EXPECT_EQ(deny.condition.operands.at(0).kind, PolicyExpr::Kind::kNot);
  EXPECT_EQ(deny.condition.operands.at(1).operands.at(0).kind, PolicyExpr::Kind::kAuth);

  const Field* salary = m.FindField("salary");
  ASSERT_EQ(salary->policies.size(), 1u);
  EXPECT_EQ(salary->policies[0].operation, FieldPolicy::Operation::kRead);
}

TEST(BinderTest, CheckResolvesItsConditionAgainstTheRelatedModel) {
  auto schema = Bind(R"s(
    model accounts {
      id      Integer   @id
      members members[]
      @@allow('read', check(members, userId == auth().id))
    }
    model members {
      id        Integer  @id
      account   accounts @relation(fields: [accountId], references: [id])
      accountId Integer
      userId    Integer
    })s");
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  const PolicyExpr& check = schema->FindModel("accounts")->policies.at(0).condition;
  EXPECT_EQ(check.kind, PolicyExpr::Kind::kCheck);
  EXPECT_EQ(check.name, "members");
  EXPECT_EQ(check.model, "members");
  EXPECT_EQ(check.location.line, 5);
  EXPECT_EQ(check.location.column, 23);
  ASSERT_EQ(check.operands.size(), 1u);
  const PolicyExpr& inner = check.operands[0];
  EXPECT_EQ(inner.kind, PolicyExpr::Kind::kCompare);
  EXPECT_EQ(inner.operands.at(0).kind, PolicyExpr::Kind::kField);
  EXPECT_EQ(inner.operands.at(0).name, "userId");
  EXPECT_EQ(inner.operands.at(1).kind, PolicyExpr::Kind::kAuthField);
  // A copy is independent of the original: the schema stays a plain value.
  Schema copy = *schema;
  EXPECT_EQ(copy.FindModel("accounts")->policies.at(0).condition.model, "members");
}

TEST(BinderTest, ResolvesBothSidesOfRelations) {
  auto schema = Bind(R"s(
    model accounts {
      id    Integer @id
      users users[]
    }
    model users {
      id        Integer  @id
      account   accounts @relation(fields: [accountId], references: [id], onDelete: Cascade)
      accountId Integer
    })s");
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  const Field* users = schema->FindModel("accounts")->FindField("users");
  ASSERT_TRUE(users->relation);
  EXPECT_FALSE(users->relation->owning);
  EXPECT_EQ(users->relation->back_field, "account");
  const Field* account = schema->FindModel("users")->FindField("account");
  ASSERT_TRUE(account->relation);
  EXPECT_TRUE(account->relation->owning);
  EXPECT_EQ(account->relation->fields, std::vector<std::string>{"accountId"});
  EXPECT_EQ(account->relation->references, std::vector<std::string>{"id"});
  EXPECT_EQ(account->relation->on_delete, ReferentialAction::kCascade);
  EXPECT_FALSE(account->stored());
}

TEST(BinderTest, ReportsEveryErrorInPositionOrder) {
  auto schema = Bind("model a { x Foo }\nmodel a { id Integer @id }\nenum E { }\n");
  ASSERT_FALSE(schema.ok());
  EXPECT_EQ(schema.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(schema.status().message(),
            "s.schema:1:7: model 'a' has no @id field\n"
            "s.schema:1:13: unknown type 'Foo'; expected Integer, Real, Text, Boolean, DateTime, "
            "Json, Blob, an enum or a model\n"
            "s.schema:2:7: duplicate declaration of 'a': already declared at s.schema:1:7\n"
            "s.schema:3:6: enum 'E' has no values");
}

// Deterministic mutations of a schema using every construct: parse, bind, format and generate
// DDL must never crash, and whatever formats must format to itself.
TEST(BinderTest, MutatedSchemasNeverCrash) {
  const std::string base = R"s(
    import "./x.schema"
    enum Role { admin member }
    model accounts { id Integer @id  users users[]  name Text @unique @length(1, 5) }
    model users {
      id        Text      @id @default(uuid())
      account   accounts  @relation(fields: [accountId], references: [id], onDelete: Cascade)
      accountId Integer
      role      Role      @default(member) @allow('read', auth().role == 'admin')
      tags      Text[]    @default(["a"])
      body      Text?     @generated("lower(role)", stored: true)
      deletedAt DateTime?
      @@softDelete
      @@fts([body])
      @@index([accountId, role])
      @@allow('read', accountId == auth().accountId || !(role != 'admin') && now() > "2020")
    })s";
  const std::string pieces[] = {"@", "@@", "(",     ")",  "[",       "]",  "{",   "}",   "\"",
                                "'", ",",  ":",     "?",  "[]",      "//", "\n",  "==",  "&&",
                                "!", "-1", "model", "id", "Integer", "x",  "@id", "1e9", "."};
  std::mt19937 rng(12345);
  for (int i = 0; i < 3000; ++i) {
    std::string text = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % (text.size() + 1);
      switch (rng() % 3) {
        case 0:
          text.insert(at, pieces[rng() % std::size(pieces)]);
          break;
        case 1:
          text.erase(at, 1 + rng() % 8);
          break;
        default:
          if (at < text.size()) text[at] = static_cast<char>(rng() % 256);
      }
    }
    auto file = ParseSchema(text, "m.schema");
    if (!file.ok()) continue;
    std::string formatted = FormatSchema(*file);
    auto again = ParseSchema(formatted, "m.schema");
    ASSERT_TRUE(again.ok()) << again.status().message() << "\n" << formatted;
    EXPECT_EQ(FormatSchema(*again), formatted);
    ast::Program program;
    program.files.push_back(std::move(*file));
    auto schema = BindSchema(program);
    if (schema.ok()) (void)GenerateDdl(*schema);
  }
}

}  // namespace
}  // namespace quarry::schema
