#include "schema/formatter.h"

#include <algorithm>

#include "schema/parser.h"

namespace quarry::schema {

namespace {

constexpr size_t kLineWidth = 100;

int Precedence(const ast::Expr& expr) {
  if (expr.kind == ast::ExprKind::kBinary) {
    if (expr.text == "||") return 1;
    if (expr.text == "&&") return 2;
    return 3;
  }
  if (expr.kind == ast::ExprKind::kUnary) return 4;
  return 5;
}

std::string QuoteText(const std::string& text, char quote) {
  std::string out(1, quote);
  for (char c : text) {
    if (c == '\\' || c == quote) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out + quote;
}

void AppendExpr(const ast::Expr& expr, std::string& out);

void AppendArguments(const std::vector<ast::Argument>& args, std::string& out) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ", ";
    if (args[i].name) out += *args[i].name + ": ";
    AppendExpr(*args[i].value, out);
  }
}

void AppendOperand(const ast::Expr& expr, int min_precedence, std::string& out) {
  bool parens = Precedence(expr) < min_precedence;
  if (parens) out += "(";
  AppendExpr(expr, out);
  if (parens) out += ")";
}

// Recursion is bounded by the parser's kMaxExprHeight.
void AppendExpr(const ast::Expr& expr, std::string& out) {
  switch (expr.kind) {
    case ast::ExprKind::kString:
      out += QuoteText(expr.text, expr.quote);
      return;
    case ast::ExprKind::kNumber:
    case ast::ExprKind::kIdent:
      out += expr.text;
      return;
    case ast::ExprKind::kBool:
      out += expr.bool_value ? "true" : "false";
      return;
    case ast::ExprKind::kNull:
      out += "null";
      return;
    case ast::ExprKind::kCall:
      out += expr.text + "(";
      AppendArguments(expr.args, out);
      out += ")";
      return;
    case ast::ExprKind::kMember:
      AppendOperand(*expr.lhs, 5, out);
      out += "." + expr.text;
      return;
    case ast::ExprKind::kArray:
      out += "[";
      for (size_t i = 0; i < expr.items.size(); ++i) {
        if (i > 0) out += ", ";
        AppendExpr(*expr.items[i], out);
      }
      out += "]";
      return;
    case ast::ExprKind::kUnary:
      out += expr.text;
      AppendOperand(*expr.lhs, 4, out);
      return;
    case ast::ExprKind::kBinary: {
      int p = Precedence(expr);
      // Comparisons do not chain, so both their operands bind tighter.
      AppendOperand(*expr.lhs, p == 3 ? 4 : p, out);
      out += " " + expr.text + " ";
      AppendOperand(*expr.rhs, p + 1, out);
      return;
    }
  }
}

std::string FormatAttribute(const ast::Attribute& attr, bool model_level) {
  std::string out = (model_level ? "@@" : "@") + attr.name;
  if (attr.has_parens) {
    out += "(";
    AppendArguments(attr.args, out);
    out += ")";
  }
  return out;
}

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

class Printer {
 public:
  std::string Print(const ast::File& file) {
    bool previous_import = false;
    bool first = true;
    for (const auto& decl : file.declarations) {
      bool is_import = std::holds_alternative<ast::Import>(decl);
      const ast::Trivia& trivia =
          std::visit([](const auto& d) -> const ast::Trivia& { return d.trivia; }, decl);
      if (!first && (!(is_import && previous_import) || trivia.blank_line_before)) {
        out_ += "\n";
      }
      first = false;
      previous_import = is_import;
      Comments(trivia.leading, "");
      if (const auto* import = std::get_if<ast::Import>(&decl)) {
        Line("import " + QuoteText(import->path, '"'), import->trivia.trailing);
      } else if (const auto* model = std::get_if<ast::Model>(&decl)) {
        PrintModel(*model);
      } else if (const auto* e = std::get_if<ast::Enum>(&decl)) {
        PrintEnum(*e);
      }
    }
    if (!file.closing_comments.empty()) {
      if (!first) out_ += "\n";
      Comments(file.closing_comments, "");
    }
    return std::move(out_);
  }

 private:
  void Comments(const std::vector<std::string>& comments, const std::string& indent) {
    for (const auto& c : comments) out_ += indent + c + "\n";
  }
  void Line(const std::string& text, const std::string& trailing) {
    out_ += text;
    if (!trailing.empty()) out_ += " " + trailing;
    out_ += "\n";
  }

  // Lines of a block, with their end-of-line comments aligned.
  struct BlockLine {
    std::vector<std::string> leading;
    bool blank_before = false;
    std::string text;
    std::string trailing;
  };
  void Block(const std::vector<BlockLine>& lines) {
    size_t width = 0;
    for (const auto& line : lines) {
      if (!line.trailing.empty()) width = std::max(width, line.text.size());
    }
    for (size_t i = 0; i < lines.size(); ++i) {
      const auto& line = lines[i];
      if (i > 0 && line.blank_before) out_ += "\n";
      Comments(line.leading, "  ");
      std::string text = "  " + line.text;
      if (!line.trailing.empty()) text = "  " + Pad(line.text, width) + " " + line.trailing;
      out_ += text + "\n";
    }
  }

  void PrintEnum(const ast::Enum& e) {
    bool comments = !e.closing_comments.empty();
    std::string one_line = "enum " + e.name + " {";
    for (const auto& v : e.values) {
      comments = comments || !v.trivia.leading.empty() || !v.trivia.trailing.empty();
      one_line += " " + v.name;
    }
    one_line += " }";
    if (!comments && one_line.size() <= kLineWidth) {
      Line(one_line, e.trivia.trailing);
      return;
    }
    out_ += "enum " + e.name + " {\n";
    std::vector<BlockLine> lines;
    for (const auto& v : e.values) {
      lines.push_back({v.trivia.leading, v.trivia.blank_line_before, v.name, v.trivia.trailing});
    }
    Block(lines);
    Comments(e.closing_comments, "  ");
    Line("}", e.trivia.trailing);
  }

  void PrintModel(const ast::Model& m) {
    out_ += "model " + m.name + " {\n";
    size_t name_width = 0;
    size_t type_width = 0;
    std::vector<std::string> types;
    for (const auto& f : m.fields) {
      std::string type = f.type_name + (f.list ? "[]" : "") + (f.optional ? "?" : "");
      name_width = std::max(name_width, f.name.size());
      if (!f.attributes.empty()) type_width = std::max(type_width, type.size());
      types.push_back(std::move(type));
    }
    std::vector<BlockLine> lines;
    for (size_t i = 0; i < m.fields.size(); ++i) {
      const auto& f = m.fields[i];
      std::string text = Pad(f.name, name_width) + " ";
      if (f.attributes.empty()) {
        text += types[i];
      } else {
        text += Pad(types[i], type_width);
        for (const auto& attr : f.attributes) text += " " + FormatAttribute(attr, false);
      }
      lines.push_back(
          {f.trivia.leading, f.trivia.blank_line_before, std::move(text), f.trivia.trailing});
    }
    Block(lines);
    lines.clear();
    for (size_t i = 0; i < m.attributes.size(); ++i) {
      const auto& attr = m.attributes[i];
      lines.push_back({attr.trivia.leading, attr.trivia.blank_line_before,
                       FormatAttribute(attr, true), attr.trivia.trailing});
    }
    if (!lines.empty() && !m.fields.empty()) out_ += "\n";
    Block(lines);
    Comments(m.closing_comments, "  ");
    Line("}", m.trivia.trailing);
  }

  std::string out_;
};

}  // namespace

std::string FormatExpr(const ast::Expr& expr) {
  std::string out;
  AppendExpr(expr, out);
  return out;
}

std::string FormatSchema(const ast::File& file) { return Printer().Print(file); }

std::string FormatProgram(ast::Program program) {
  ast::File merged;
  merged.path = program.files.empty() ? "schema" : program.files.front().path;
  for (ast::File& file : program.files) {
    for (ast::Declaration& declaration : file.declarations) {
      if (!std::holds_alternative<ast::Import>(declaration)) {
        merged.declarations.push_back(std::move(declaration));
      }
    }
    for (std::string& comment : file.closing_comments) {
      merged.closing_comments.push_back(std::move(comment));
    }
  }
  return FormatSchema(merged);
}

Result<std::string> FormatSchemaText(std::string_view text, const std::string& path) {
  QUARRY_ASSIGN_OR_RETURN(ast::File file, ParseSchema(text, path));
  return FormatSchema(file);
}

}  // namespace quarry::schema
