#include "schema/parser.h"

#include <algorithm>
#include <utility>

#include "schema/lexer.h"

namespace quarry::schema {

namespace {

bool Before(ast::Pos a, ast::Pos b) {
  return a.line < b.line || (a.line == b.line && a.column < b.column);
}

class Parser {
 public:
  Parser(LexResult lexed, std::string path)
      : tokens_(std::move(lexed.tokens)),
        comments_(std::move(lexed.comments)),
        path_(std::move(path)) {}

  Result<ast::File> ParseFile() {
    ast::File file;
    file.path = path_;
    while (Peek().kind != TokenKind::kEnd) {
      const Token& token = Peek();
      ast::Trivia trivia = LeadingTrivia();
      if (token.kind == TokenKind::kIdent && token.text == "import") {
        ast::Import decl;
        decl.pos = token.pos;
        Advance();
        if (Peek().kind != TokenKind::kString) {
          return Expected("the imported file's path as a string");
        }
        decl.path = Peek().text;
        decl.path_pos = Peek().pos;
        Advance();
        decl.trivia = std::move(trivia);
        decl.trivia.trailing = TrailingComment();
        file.declarations.emplace_back(std::move(decl));
      } else if (token.kind == TokenKind::kIdent && token.text == "model") {
        QUARRY_ASSIGN_OR_RETURN(ast::Model model, ParseModel());
        model.trivia.leading = std::move(trivia.leading);
        model.trivia.blank_line_before = trivia.blank_line_before;
        file.declarations.emplace_back(std::move(model));
      } else if (token.kind == TokenKind::kIdent && token.text == "enum") {
        QUARRY_ASSIGN_OR_RETURN(ast::Enum decl, ParseEnum());
        decl.trivia.leading = std::move(trivia.leading);
        decl.trivia.blank_line_before = trivia.blank_line_before;
        file.declarations.emplace_back(std::move(decl));
      } else {
        return Expected("'model', 'enum' or 'import'");
      }
    }
    file.closing_comments = CommentsBefore(Peek().pos);
    return file;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t at = std::min(index_ + ahead, tokens_.size() - 1);
    return tokens_[at];
  }
  void Advance() {
    if (index_ + 1 < tokens_.size()) ++index_;
  }

  Status Error(ast::Pos pos, const std::string& message) const {
    return SyntaxError(path_, pos, message);
  }
  Status Expected(const std::string& what) const {
    return Error(Peek().pos, "expected " + what + ", found " + DescribeToken(Peek()));
  }
  Status Expect(TokenKind kind, const std::string& context) {
    if (Peek().kind != kind) {
      return Expected(DescribeTokenKind(kind) + context);
    }
    Advance();
    return Status::Ok();
  }

  // Comments before `pos` not yet attached to a node, as whole-line comments.
  std::vector<std::string> CommentsBefore(ast::Pos pos) {
    std::vector<std::string> out;
    while (next_comment_ < comments_.size() && Before(comments_[next_comment_].pos, pos)) {
      out.push_back(comments_[next_comment_].text);
      ++next_comment_;
    }
    return out;
  }

  // The trivia of the node starting at the current token.
  ast::Trivia LeadingTrivia() {
    ast::Trivia trivia;
    ast::Pos start = Peek().pos;
    int first_line = start.line;
    if (next_comment_ < comments_.size() && Before(comments_[next_comment_].pos, start)) {
      first_line = comments_[next_comment_].pos.line;
    }
    int previous_line = index_ > 0 ? tokens_[index_ - 1].pos.line : 0;
    // A comment trailing the previous token sits on previous_line; it does not count.
    trivia.blank_line_before = index_ > 0 && first_line > previous_line + 1;
    if (index_ > 0 && first_line == previous_line) {
      // The first comment trails the previous token (e.g. after a '{'): look past it.
      size_t k = next_comment_ + 1;
      int line = k < comments_.size() && Before(comments_[k].pos, start) ? comments_[k].pos.line
                                                                         : start.line;
      trivia.blank_line_before = line > previous_line + 1;
    }
    trivia.leading = CommentsBefore(start);
    return trivia;
  }

  // A comment on the line of the last consumed token, before the next token.
  std::string TrailingComment() {
    if (index_ == 0 || next_comment_ >= comments_.size()) return "";
    const Comment& comment = comments_[next_comment_];
    const Token& last = tokens_[index_ - 1];
    if (comment.pos.line == last.pos.line && Before(last.pos, comment.pos) &&
        Before(comment.pos, Peek().pos)) {
      ++next_comment_;
      return comment.text;
    }
    return "";
  }

  Result<std::string> ExpectName(const std::string& what) {
    if (Peek().kind != TokenKind::kIdent) {
      return Expected(what);
    }
    std::string name = Peek().text;
    Advance();
    return name;
  }

  Result<ast::Enum> ParseEnum() {
    ast::Enum decl;
    decl.pos = Peek().pos;
    Advance();
    decl.name_pos = Peek().pos;
    QUARRY_ASSIGN_OR_RETURN(decl.name, ExpectName("the enum's name"));
    QUARRY_RETURN_IF_ERROR(Expect(TokenKind::kLBrace, " after the enum's name"));
    while (Peek().kind != TokenKind::kRBrace) {
      if (Peek().kind != TokenKind::kIdent) {
        return Expected("an enum value or '}'");
      }
      ast::EnumValue value;
      value.trivia = LeadingTrivia();
      value.name = Peek().text;
      value.pos = Peek().pos;
      Advance();
      value.trivia.trailing = TrailingComment();
      decl.values.push_back(std::move(value));
    }
    decl.closing_comments = CommentsBefore(Peek().pos);
    Advance();
    decl.trivia.trailing = TrailingComment();
    return decl;
  }

  Result<ast::Model> ParseModel() {
    ast::Model model;
    model.pos = Peek().pos;
    Advance();
    model.name_pos = Peek().pos;
    QUARRY_ASSIGN_OR_RETURN(model.name, ExpectName("the model's name"));
    QUARRY_RETURN_IF_ERROR(Expect(TokenKind::kLBrace, " after the model's name"));
    while (Peek().kind != TokenKind::kRBrace) {
      if (Peek().kind == TokenKind::kAtAt) {
        ast::Trivia trivia = LeadingTrivia();
        QUARRY_ASSIGN_OR_RETURN(ast::Attribute attribute, ParseAttribute());
        attribute.trivia = std::move(trivia);
        attribute.trivia.trailing = TrailingComment();
        model.attributes.push_back(std::move(attribute));
      } else if (Peek().kind == TokenKind::kIdent) {
        ast::Trivia trivia = LeadingTrivia();
        QUARRY_ASSIGN_OR_RETURN(ast::Field field, ParseField());
        field.trivia = std::move(trivia);
        field.trivia.trailing = TrailingComment();
        model.fields.push_back(std::move(field));
      } else if (Peek().kind == TokenKind::kAt) {
        return Error(Peek().pos,
                     "expected a field or '}', found '@': a field attribute must follow its "
                     "field's type, a model attribute starts with '@@'");
      } else {
        return Expected("a field, a model attribute ('@@') or '}'");
      }
    }
    model.closing_comments = CommentsBefore(Peek().pos);
    Advance();
    model.trivia.trailing = TrailingComment();
    return model;
  }

  Result<ast::Field> ParseField() {
    ast::Field field;
    field.pos = Peek().pos;
    field.name = Peek().text;
    Advance();
    field.type_pos = Peek().pos;
    QUARRY_ASSIGN_OR_RETURN(field.type_name, ExpectName("the type of field '" + field.name + "'"));
    if (Peek().kind == TokenKind::kLBracket) {
      Advance();
      QUARRY_RETURN_IF_ERROR(Expect(TokenKind::kRBracket, " to close the list type '[]'"));
      field.list = true;
      if (Peek().kind == TokenKind::kQuestion) {
        return Error(Peek().pos, "a list type cannot be optional: write 'Type[]', not 'Type[]?'");
      }
    } else if (Peek().kind == TokenKind::kQuestion) {
      Advance();
      field.optional = true;
      if (Peek().kind == TokenKind::kLBracket) {
        return Error(Peek().pos, "a list type cannot be optional: write 'Type[]', not 'Type?[]'");
      }
    }
    while (Peek().kind == TokenKind::kAt) {
      QUARRY_ASSIGN_OR_RETURN(ast::Attribute attribute, ParseAttribute());
      field.attributes.push_back(std::move(attribute));
    }
    return field;
  }

  // At '@' or '@@'.
  Result<ast::Attribute> ParseAttribute() {
    ast::Attribute attribute;
    attribute.pos = Peek().pos;
    bool model_level = Peek().kind == TokenKind::kAtAt;
    Advance();
    if (Peek().kind != TokenKind::kIdent || Peek().pos.line != attribute.pos.line ||
        Peek().pos.column != attribute.pos.column + (model_level ? 2 : 1)) {
      return Expected(std::string("an attribute name right after '") + (model_level ? "@@" : "@") +
                      "'");
    }
    attribute.name = Peek().text;
    Advance();
    if (Peek().kind == TokenKind::kLParen) {
      attribute.has_parens = true;
      QUARRY_ASSIGN_OR_RETURN(attribute.args, ParseArguments(0));
    }
    return attribute;
  }

  // At '('. `depth` is the expression depth of the enclosing call, 0 for an attribute.
  Result<std::vector<ast::Argument>> ParseArguments(int depth) {
    std::vector<ast::Argument> args;
    Advance();
    while (Peek().kind != TokenKind::kRParen) {
      ast::Argument arg;
      if (Peek().kind == TokenKind::kIdent && Peek(1).kind == TokenKind::kColon) {
        arg.name = Peek().text;
        arg.name_pos = Peek().pos;
        Advance();
        Advance();
      }
      QUARRY_ASSIGN_OR_RETURN(arg.value, ParseExpr(depth + 1));
      args.push_back(std::move(arg));
      if (Peek().kind == TokenKind::kComma) {
        Advance();
      } else if (Peek().kind != TokenKind::kRParen) {
        return Expected("',' or ')'");
      }
    }
    Advance();
    return args;
  }

  Status CheckDepth(int depth) const {
    if (depth > ast::kMaxExprHeight) {
      return Error(Peek().pos, "expression is nested too deeply (more than " +
                                   std::to_string(ast::kMaxExprHeight) + " levels)");
    }
    return Status::Ok();
  }

  Result<ast::ExprPtr> MakeBinary(std::string op, ast::ExprPtr lhs, ast::ExprPtr rhs) {
    auto node = std::make_unique<ast::Expr>();
    node->kind = ast::ExprKind::kBinary;
    node->pos = lhs->pos;
    node->text = std::move(op);
    node->height = std::max(lhs->height, rhs->height) + 1;
    if (node->height > ast::kMaxExprHeight) {
      return Error(node->pos, "expression is nested too deeply (more than " +
                                  std::to_string(ast::kMaxExprHeight) + " levels)");
    }
    node->lhs = std::move(lhs);
    node->rhs = std::move(rhs);
    return node;
  }

  Result<ast::ExprPtr> ParseExpr(int depth) {
    QUARRY_RETURN_IF_ERROR(CheckDepth(depth));
    QUARRY_ASSIGN_OR_RETURN(ast::ExprPtr lhs, ParseAnd(depth));
    while (Peek().kind == TokenKind::kOr) {
      Advance();
      QUARRY_ASSIGN_OR_RETURN(ast::ExprPtr rhs, ParseAnd(depth));
      QUARRY_ASSIGN_OR_RETURN(lhs, MakeBinary("||", std::move(lhs), std::move(rhs)));
    }
    return lhs;
  }

  Result<ast::ExprPtr> ParseAnd(int depth) {
    QUARRY_ASSIGN_OR_RETURN(ast::ExprPtr lhs, ParseComparison(depth));
    while (Peek().kind == TokenKind::kAnd) {
      Advance();
      QUARRY_ASSIGN_OR_RETURN(ast::ExprPtr rhs, ParseComparison(depth));
      QUARRY_ASSIGN_OR_RETURN(lhs, MakeBinary("&&", std::move(lhs), std::move(rhs)));
    }
    return lhs;
  }

  static const char* ComparisonOp(TokenKind kind) {
    switch (kind) {
      case TokenKind::kEq:
        return "==";
      case TokenKind::kNe:
        return "!=";
      case TokenKind::kLt:
        return "<";
      case TokenKind::kLe:
        return "<=";
      case TokenKind::kGt:
        return ">";
      case TokenKind::kGe:
        return ">=";
      default:
        return nullptr;
    }
  }

  Result<ast::ExprPtr> ParseComparison(int depth) {
    QUARRY_ASSIGN_OR_RETURN(ast::ExprPtr lhs, ParseUnary(depth));
    const char* op = ComparisonOp(Peek().kind);
    if (op == nullptr) return lhs;
    Advance();
    QUARRY_ASSIGN_OR_RETURN(ast::ExprPtr rhs, ParseUnary(depth));
    if (ComparisonOp(Peek().kind) != nullptr) {
      return Error(Peek().pos, "comparisons cannot be chained: join them with '&&'");
    }
    return MakeBinary(op, std::move(lhs), std::move(rhs));
  }

  Result<ast::ExprPtr> ParseUnary(int depth) {
    QUARRY_RETURN_IF_ERROR(CheckDepth(depth));
    if (Peek().kind == TokenKind::kNot) {
      ast::Pos pos = Peek().pos;
      Advance();
      QUARRY_ASSIGN_OR_RETURN(ast::ExprPtr operand, ParseUnary(depth + 1));
      auto node = std::make_unique<ast::Expr>();
      node->kind = ast::ExprKind::kUnary;
      node->pos = pos;
      node->text = "!";
      node->height = operand->height + 1;
      node->lhs = std::move(operand);
      return node;
    }
    QUARRY_ASSIGN_OR_RETURN(ast::ExprPtr expr, ParsePrimary(depth));
    while (Peek().kind == TokenKind::kDot) {
      Advance();
      if (Peek().kind != TokenKind::kIdent) {
        return Expected("a member name after '.'");
      }
      auto node = std::make_unique<ast::Expr>();
      node->kind = ast::ExprKind::kMember;
      node->pos = expr->pos;
      node->text = Peek().text;
      node->height = expr->height + 1;
      node->lhs = std::move(expr);
      Advance();
      if (node->height > ast::kMaxExprHeight) {
        return Error(node->pos, "expression is nested too deeply (more than " +
                                    std::to_string(ast::kMaxExprHeight) + " levels)");
      }
      expr = std::move(node);
    }
    return expr;
  }

  Result<ast::ExprPtr> ParsePrimary(int depth) {
    auto node = std::make_unique<ast::Expr>();
    const Token& token = Peek();
    node->pos = token.pos;
    switch (token.kind) {
      case TokenKind::kString:
        node->kind = ast::ExprKind::kString;
        node->text = token.text;
        node->quote = token.quote;
        Advance();
        return node;
      case TokenKind::kNumber:
        node->kind = ast::ExprKind::kNumber;
        node->text = token.text;
        Advance();
        return node;
      case TokenKind::kMinus:
        Advance();
        if (Peek().kind != TokenKind::kNumber) {
          return Expected("a number after '-'");
        }
        node->kind = ast::ExprKind::kNumber;
        node->text = "-" + Peek().text;
        Advance();
        return node;
      case TokenKind::kIdent:
        if (token.text == "true" || token.text == "false") {
          node->kind = ast::ExprKind::kBool;
          node->bool_value = token.text == "true";
          Advance();
          return node;
        }
        if (token.text == "null") {
          node->kind = ast::ExprKind::kNull;
          Advance();
          return node;
        }
        node->text = token.text;
        Advance();
        if (Peek().kind == TokenKind::kLParen) {
          node->kind = ast::ExprKind::kCall;
          QUARRY_RETURN_IF_ERROR(CheckDepth(depth + 1));
          QUARRY_ASSIGN_OR_RETURN(node->args, ParseArguments(depth + 1));
          for (const auto& arg : node->args) {
            node->height = std::max(node->height, arg.value->height + 1);
          }
        } else {
          node->kind = ast::ExprKind::kIdent;
        }
        return node;
      case TokenKind::kLBracket: {
        node->kind = ast::ExprKind::kArray;
        Advance();
        while (Peek().kind != TokenKind::kRBracket) {
          QUARRY_ASSIGN_OR_RETURN(ast::ExprPtr item, ParseExpr(depth + 1));
          node->height = std::max(node->height, item->height + 1);
          node->items.push_back(std::move(item));
          if (Peek().kind == TokenKind::kComma) {
            Advance();
          } else if (Peek().kind != TokenKind::kRBracket) {
            return Expected("',' or ']'");
          }
        }
        Advance();
        return node;
      }
      case TokenKind::kLParen: {
        Advance();
        QUARRY_ASSIGN_OR_RETURN(ast::ExprPtr inner, ParseExpr(depth + 1));
        QUARRY_RETURN_IF_ERROR(Expect(TokenKind::kRParen, " to close '('"));
        return inner;
      }
      default:
        return Expected("a value");
    }
  }

  std::vector<Token> tokens_;
  std::vector<Comment> comments_;
  std::string path_;
  size_t index_ = 0;
  size_t next_comment_ = 0;
};

}  // namespace

Result<ast::File> ParseSchema(std::string_view text, const std::string& path) {
  QUARRY_ASSIGN_OR_RETURN(LexResult lexed, Lex(text, path));
  Parser parser(std::move(lexed), path);
  return parser.ParseFile();
}

}  // namespace quarry::schema
