#include "cli/completion.h"

#include <algorithm>
#include <vector>

namespace xop {

namespace {
using Described = std::vector<std::pair<std::string, std::string>>;  // word, description

// The choices of an option whose check is CLI::IsMember: its type name reads "TEXT:{a,b,c}".
std::vector<std::string> choices_of(const CLI::Option& o) {
  const std::string t = o.get_type_name();
  const auto open = t.find(":{");
  const auto close = t.find('}', open == std::string::npos ? 0 : open);
  std::vector<std::string> out;
  if (open == std::string::npos || close == std::string::npos) return out;
  const std::string list = t.substr(open + 2, close - open - 2);
  for (size_t at = 0; at <= list.size();) {
    const auto comma = std::min(list.find(',', at), list.size());
    if (comma > at) out.push_back(list.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

// One command of the tree: its path from the root ("xop account show"), verbs and flags.
struct Node {
  std::string path;
  Described verbs;
  Described flags;                  // "--json" / "-a", description (with ancestors')
  Described own_flags;              // only this command's
  std::vector<std::string> valued;  // the flags (with ancestors') that take a value: the next word is it
  std::vector<std::pair<std::string, std::vector<std::string>>> values;  // flag, its choices (with ancestors')
  std::vector<std::string> args;  // the choices of its first positional (e.g. bash zsh fish)
};

void walk(const CLI::App& app, const std::string& path, std::vector<Node>* out) {
  Node n;
  n.path = path;
  for (const auto* s : app.get_subcommands([](const CLI::App*) { return true; })) {
    n.verbs.emplace_back(s->get_name(), s->get_description());
  }
  for (const auto* o : app.get_options()) {
    if (o->get_lnames().empty() && o->get_snames().empty() && n.args.empty()) n.args = choices_of(*o);
  }
  // A flag of this command or of an ancestor (global flags are accepted anywhere).
  for (const CLI::App* a = &app; a != nullptr; a = a->get_parent()) {
    for (const auto* o : a->get_options()) {
      std::vector<std::string> names;
      for (const auto& l : o->get_lnames()) names.push_back("--" + l);
      for (const auto& s : o->get_snames()) names.push_back("-" + s);
      for (const auto& f : names) {
        n.flags.emplace_back(f, o->get_description());
        if (o->get_items_expected_max() > 0) n.valued.push_back(f);
        if (auto c = choices_of(*o); !c.empty()) n.values.emplace_back(f, c);
      }
    }
    if (a == &app) n.own_flags = n.flags;
  }
  // Each flag once (every command has its own --help).
  Described once;
  for (const auto& f : n.flags) {
    bool dup = false;
    for (const auto& g : once) dup = dup || g.first == f.first;
    if (!dup) once.push_back(f);
  }
  n.flags = std::move(once);
  out->push_back(n);
  for (const auto* s : app.get_subcommands([](const CLI::App*) { return true; })) {
    walk(*s, path + " " + s->get_name(), out);
  }
}

std::string words(const Described& v) {
  std::string s;
  for (const auto& [w, d] : v) s += (s.empty() ? "" : " ") + w;
  return s;
}
std::string words(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) s += (s.empty() ? "" : " ") + w;
  return s;
}

// For single-quoted shell strings.
std::string quote(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else if (c != '\n') {
      out += c;
    }
  }
  return out;
}

// The lookups the bash and zsh scripts share, by command path: _xop_verbs PATH, _xop_flags PATH,
// _xop_valued PATH (the flags whose next word is their value), _xop_values PATH FLAG (that value's
// choices) and _xop_args PATH (the choices of the command's positional argument).
std::string lookup_functions(const std::vector<Node>& nodes) {
  std::string s = "_xop_verbs() {\n  case \"$1\" in\n";
  for (const auto& n : nodes) {
    if (!n.verbs.empty()) s += "    '" + n.path + "') echo '" + words(n.verbs) + "' ;;\n";
  }
  s += "  esac\n}\n_xop_flags() {\n  case \"$1\" in\n";
  for (const auto& n : nodes) s += "    '" + n.path + "') echo '" + words(n.flags) + "' ;;\n";
  s += "  esac\n}\n_xop_valued() {\n  case \"$1\" in\n";
  for (const auto& n : nodes) s += "    '" + n.path + "') echo '" + words(n.valued) + "' ;;\n";
  s += "  esac\n}\n_xop_values() {\n  case \"$1 $2\" in\n";
  for (const auto& n : nodes) {
    for (const auto& [f, c] : n.values) s += "    '" + n.path + " " + f + "') echo '" + words(c) + "' ;;\n";
  }
  s += "  esac\n}\n_xop_args() {\n  case \"$1\" in\n";
  for (const auto& n : nodes) {
    if (!n.args.empty()) s += "    '" + n.path + "') echo '" + words(n.args) + "' ;;\n";
  }
  s += "  esac\n}\n";
  return s;
}

// Both scripts find the command path the same way: a word naming a verb of the current command
// descends into it; a flag that takes a value (not written --flag=value) makes the next word its
// value, never a verb; other words (positional arguments) are passed over.
std::string bash_script(const std::vector<Node>& nodes) {
  std::string s =
      "# bash completion for xop (generated by `xop completion bash`)\n"
      "# Load it with: source <(xop completion bash)\n"
      "_xop() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" path=\"xop\" value=0 w i\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    w=\"${COMP_WORDS[i]}\"\n"
      "    if ((value)); then\n"
      "      [[ \"$w\" == = ]] || value=0  # bash splits --flag=value at the '='\n"
      "      continue\n"
      "    fi\n"
      "    if [[ \"$w\" == -* ]]; then\n"
      "      [[ \" $(_xop_valued \"$path\") \" == *\" $w \"* ]] && value=1\n"
      "    elif [[ \" $(_xop_verbs \"$path\") \" == *\" $w \"* ]]; then\n"
      "      path=\"$path $w\"\n"
      "    fi\n"
      "  done\n"
      "  [[ \"$cur\" == = ]] && cur=\"\"\n"
      "  if ((value)); then\n"
      "    local flag=\"${COMP_WORDS[COMP_CWORD - 1]}\"\n"
      "    [[ \"$flag\" == = ]] && flag=\"${COMP_WORDS[COMP_CWORD - 2]}\"\n"
      "    COMPREPLY=($(compgen -W \"$(_xop_values \"$path\" \"$flag\")\" -- \"$cur\"))\n"
      "  elif [[ \"$cur\" == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$(_xop_flags \"$path\")\" -- \"$cur\"))\n"
      "  else\n"
      "    COMPREPLY=($(compgen -W \"$(_xop_verbs \"$path\") $(_xop_args \"$path\")\" -- \"$cur\"))\n"
      "  fi\n"
      "  if [[ ${#COMPREPLY[@]} -eq 0 && \"$cur\" != -* ]]; then COMPREPLY=($(compgen -f -- \"$cur\")); fi\n"
      "}\n";
  s += lookup_functions(nodes);
  s += "complete -o bashdefault -o default -F _xop xop\n";
  return s;
}

std::string zsh_script(const std::vector<Node>& nodes) {
  std::string s =
      "#compdef xop\n"
      "# zsh completion for xop (generated by `xop completion zsh`)\n"
      "# Load it with: source <(xop completion zsh), or save it as _xop in a directory of $fpath\n"
      "_xop() {\n"
      "  local path_=\"xop\" w i value=0\n"
      "  local -a verbs flags\n"
      "  for ((i = 2; i < CURRENT; i++)); do\n"
      "    w=\"${words[i]}\"\n"
      "    if (( value )); then value=0; continue; fi\n"
      "    if [[ \"$w\" == -* ]]; then\n"
      "      flags=(${=$(_xop_valued \"$path_\")})\n"
      "      if (( ${flags[(Ie)$w]} )); then value=1; fi\n"
      "      continue\n"
      "    fi\n"
      "    verbs=(${=$(_xop_verbs \"$path_\")})\n"
      "    if (( ${verbs[(Ie)$w]} )); then path_=\"$path_ $w\"; fi\n"
      "  done\n"
      "  if (( value )); then\n"
      "    verbs=(${=$(_xop_values \"$path_\" \"${words[CURRENT-1]}\")})\n"
      "    if (( ${#verbs} )); then compadd -a verbs; else _files; fi\n"
      "  elif [[ \"${words[CURRENT]}\" == -* ]]; then\n"
      "    flags=(${=$(_xop_flags \"$path_\")})\n"
      "    compadd -a flags\n"
      "  else\n"
      "    verbs=(${=$(_xop_verbs \"$path_\")} ${=$(_xop_args \"$path_\")})\n"
      "    if (( ${#verbs} )); then compadd -a verbs; else _files; fi\n"
      "  fi\n"
      "}\n";
  s += lookup_functions(nodes);
  s += "if [[ \"$funcstack[1]\" == _xop ]]; then _xop \"$@\"; else compdef _xop xop; fi\n";
  return s;
}

// fish: __xop_path prints the command path of the words before the cursor (found as above), and a
// second line "value" when the cursor is on a flag's value. Each verb, choice and flag is a
// `complete` whose condition tests that path: __xop_at PATH (exactly there, not on a value) for
// verbs and choices, __xop_under PATH (there or below) for flags, so that fish itself completes a
// flag's value. Files are offered only where a command has no verbs.
std::string fish_script(const std::vector<Node>& nodes) {
  std::string s =
      "# fish completion for xop (generated by `xop completion fish`)\n"
      "# Load it with: xop completion fish | source, or save it as ~/.config/fish/completions/xop.fish\n"
      "function __xop_lookup -a what path\n"
      "  switch \"$what $path\"\n";
  for (const auto& n : nodes) {
    if (!n.verbs.empty()) s += "    case 'verbs " + n.path + "'\n      string split ' ' -- '" + words(n.verbs) + "'\n";
    if (!n.valued.empty()) {
      s += "    case 'valued " + n.path + "'\n      string split ' ' -- '" + words(n.valued) + "'\n";
    }
  }
  s += "  end\n"
       "end\n"
       "function __xop_path\n"
       "  set -l words (commandline -opc)\n"
       "  set -e words[1]\n"
       "  set -l path xop\n"
       "  set -l value 0\n"
       "  for w in $words\n"
       "    if test $value = 1\n"
       "      set value 0\n"
       "    else if string match -q -- '-*' $w\n"
       "      contains -- $w (__xop_lookup valued $path); and set value 1\n"
       "    else if contains -- $w (__xop_lookup verbs $path)\n"
       "      set path \"$path $w\"\n"
       "    end\n"
       "  end\n"
       "  echo $path\n"
       "  test $value = 1; and echo value\n"
       "end\n"
       "function __xop_at -a want\n"
       "  set -l p (__xop_path)\n"
       "  test \"$p[1]\" = \"$want\"; and not set -q p[2]\n"
       "end\n"
       "function __xop_under -a want\n"
       "  set -l p (__xop_path)\n"
       "  test \"$p[1]\" = \"$want\"; or string match -q -- \"$want *\" \"$p[1]\"\n"
       "end\n";
  for (const auto& n : nodes) {
    const std::string at = "__xop_at '" + quote(n.path) + "'";
    const std::string under = "__xop_under '" + quote(n.path) + "'";
    for (const auto& [v, d] : n.verbs) {
      s += "complete -c xop -n \"" + at + "\" -f -a '" + quote(v) + "' -d '" + quote(d) + "'\n";
    }
    if (!n.args.empty()) s += "complete -c xop -n \"" + at + "\" -f -a '" + quote(words(n.args)) + "'\n";
    for (const auto& [f, d] : n.own_flags) {
      const bool is_long = f.starts_with("--");
      std::string extra;
      for (const auto& v : n.valued) extra = v == f ? " -r" : extra;
      for (const auto& [vf, c] : n.values) extra = vf == f ? " -x -a '" + quote(words(c)) + "'" : extra;
      s += "complete -c xop -n \"" + under + "\" " +
           (is_long ? "-l '" + quote(f.substr(2)) : "-s '" + quote(f.substr(1))) + "'" + extra + " -d '" + quote(d) +
           "'\n";
    }
  }
  return s;
}
}  // namespace

std::string completion_script(const CLI::App& app, const std::string& shell) {
  std::vector<Node> nodes;
  walk(app, "xop", &nodes);
  if (shell == "bash") return bash_script(nodes);
  if (shell == "zsh") return zsh_script(nodes);
  if (shell == "fish") return fish_script(nodes);
  return "";
}

}  // namespace xop
