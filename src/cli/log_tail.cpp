#include "cli/log_tail.h"

#include <vector>

namespace xop {

std::string last_lines(const std::string& text, size_t n) {
  if (n == 0) return "";
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;  // a final newline ends the last line
  size_t pos = end;
  for (size_t seen = 0; pos > 0;) {
    if (text[pos - 1] == '\n' && ++seen == n) break;
    --pos;
  }
  return text.substr(pos);
}

std::string log_delta(const std::string& prev, const std::string& next) {
  if (next.starts_with(prev)) return next.substr(prev.size());
  // The window moved: the longest prefix of `next` that ends `prev`, by Knuth-Morris-Pratt
  // matching `next` along `prev` (linear, whatever the text).
  std::vector<size_t> fail(next.size() + 1, 0);
  for (size_t i = 1, k = 0; i < next.size(); ++i) {
    while (k > 0 && next[i] != next[k]) k = fail[k];
    if (next[i] == next[k]) ++k;
    fail[i + 1] = k;
  }
  size_t k = 0;
  const size_t from = prev.size() > next.size() ? prev.size() - next.size() : 0;
  for (size_t i = from; i < prev.size(); ++i) {
    while (k > 0 && (k == next.size() || prev[i] != next[k])) k = fail[k];
    if (k < next.size() && prev[i] == next[k]) ++k;
  }
  return next.substr(k);
}

}  // namespace xop
