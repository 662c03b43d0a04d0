// Binder: attribute arguments, matched to the attribute's parameters, and their values
// (strings, name lists, numbers, lengths, auth() claims).

#include <algorithm>
#include <charconv>
#include <set>

#include "schema/binder_internal.h"

namespace quarry::schema::internal {

// Matches an attribute's arguments to its parameters. Positional arguments take `params` in
// order; named ones must name one of them. Returns false (error reported) on a mismatch.
bool Binder::MatchArgs(const ast::Attribute& attr, size_t file, const std::string& display,
                       const std::vector<std::string>& params, size_t required,
                       std::vector<const ast::Expr*>& out) {
  out.assign(params.size(), nullptr);
  if (params.empty() && attr.has_parens) {
    Err(file, attr.pos, display + " takes no arguments");
    return false;
  }
  size_t positional = 0;
  bool named_seen = false;
  for (const auto& arg : attr.args) {
    size_t slot;
    if (arg.name) {
      named_seen = true;
      auto it = std::find(params.begin(), params.end(), *arg.name);
      if (it == params.end()) {
        std::string list;
        for (const auto& p : params) list += (list.empty() ? "" : ", ") + p + ":";
        Err(file, arg.name_pos,
            "unknown argument '" + *arg.name + "' for " + display + "; expected " + list);
        return false;
      }
      slot = static_cast<size_t>(it - params.begin());
    } else {
      if (named_seen) {
        Err(file, arg.value->pos, "positional argument after a named one in " + display);
        return false;
      }
      if (positional >= params.size()) {
        Err(file, arg.value->pos,
            display + " takes at most " + std::to_string(params.size()) + " argument" +
                (params.size() == 1 ? "" : "s"));
        return false;
      }
      slot = positional++;
    }
    if (out[slot] != nullptr) {
      Err(file, arg.value->pos, "argument '" + params[slot] + "' given twice in " + display);
      return false;
    }
    out[slot] = arg.value.get();
  }
  for (size_t i = 0; i < required; ++i) {
    if (out[i] == nullptr) {
      Err(file, attr.pos, display + " needs the argument '" + params[i] + "'");
      return false;
    }
  }
  return true;
}

std::optional<std::string> Binder::StringArg(const ast::Expr* expr, size_t file,
                                             const std::string& what) {
  if (expr->kind != ast::ExprKind::kString) {
    Err(file, expr->pos, "expected " + what + " as a string, found " + DescribeExpr(*expr));
    return std::nullopt;
  }
  return expr->text;
}

// A list of field names `[a, b]`.
std::optional<std::vector<std::pair<std::string, ast::Pos>>> Binder::NameList(
    const ast::Expr* expr, size_t file, const std::string& what) {
  if (expr->kind != ast::ExprKind::kArray) {
    Err(file, expr->pos,
        "expected " + what + " as a list of field names [a, b], found " + DescribeExpr(*expr));
    return std::nullopt;
  }
  std::vector<std::pair<std::string, ast::Pos>> names;
  std::set<std::string> seen;
  for (const auto& item : expr->items) {
    if (item->kind != ast::ExprKind::kIdent) {
      Err(file, item->pos, "expected a field name in " + what + ", found " + DescribeExpr(*item));
      return std::nullopt;
    }
    if (!seen.insert(item->text).second) {
      Err(file, item->pos, "field '" + item->text + "' appears twice in " + what);
      return std::nullopt;
    }
    names.emplace_back(item->text, item->pos);
  }
  if (names.empty()) {
    Err(file, expr->pos, what + " must name at least one field");
    return std::nullopt;
  }
  return names;
}

std::optional<Literal> Binder::NumberLiteral(const ast::Expr& expr, size_t file) {
  Literal lit;
  const std::string& t = expr.text;
  bool is_int = t.find_first_of(".eE") == std::string::npos;
  if (is_int) {
    lit.kind = Literal::Kind::kInteger;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), lit.int_value);
    if (ec != std::errc() || ptr != t.data() + t.size()) {
      Err(file, expr.pos, "integer " + t + " is out of range");
      return std::nullopt;
    }
  } else {
    lit.kind = Literal::Kind::kReal;
    lit.text = t;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), lit.real_value);
    if (ec != std::errc() || ptr != t.data() + t.size()) {
      Err(file, expr.pos, "number " + t + " is out of range");
      return std::nullopt;
    }
  }
  return lit;
}

std::optional<double> Binder::NumberArg(const ast::Expr* expr, size_t file,
                                        const std::string& what) {
  if (expr->kind != ast::ExprKind::kNumber) {
    Err(file, expr->pos, "expected a number for " + what + ", found " + DescribeExpr(*expr));
    return std::nullopt;
  }
  auto lit = NumberLiteral(*expr, file);
  if (!lit) return std::nullopt;
  return lit->kind == Literal::Kind::kInteger ? static_cast<double>(lit->int_value)
                                              : lit->real_value;
}

std::optional<int64_t> Binder::LengthArg(const ast::Expr* expr, size_t file,
                                         const std::string& what) {
  if (expr->kind != ast::ExprKind::kNumber ||
      expr->text.find_first_of(".eE-") != std::string::npos) {
    Err(file, expr->pos,
        "expected a non-negative integer for " + what + ", found " + DescribeExpr(*expr));
    return std::nullopt;
  }
  auto lit = NumberLiteral(*expr, file);
  if (!lit) return std::nullopt;
  return lit->int_value;
}

std::optional<std::string> Binder::AuthClaim(const ast::Expr& expr, size_t file,
                                             const std::string& where) {
  if (expr.kind != ast::ExprKind::kMember) {
    Err(file, expr.pos, "expected auth().claim in " + where + ", found " + DescribeExpr(expr));
    return std::nullopt;
  }
  if (expr.lhs->kind != ast::ExprKind::kCall || expr.lhs->text != "auth") {
    Err(file, expr.pos, "'.' applies only to auth(): write auth()." + expr.text);
    return std::nullopt;
  }
  if (!expr.lhs->args.empty()) {
    Err(file, expr.lhs->pos, "auth() takes no arguments");
    return std::nullopt;
  }
  return expr.text;
}

}  // namespace quarry::schema::internal
