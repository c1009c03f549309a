// A user's statement summed per session, per server or per UTC day, and written as CSV. Pure:
// the statement comes from the corp (GET /v1/statements/{account}); nothing here reads a clock or
// a file, so the same statement always gives the same rows.
//
// A usage record counts for the UTC day its period ends in (records are at most one charging
// interval long, seconds, so a record spanning midnight is rare and goes wholly to the later day).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/resources.h"
#include "core/result.h"
#include "proto/corp_answers.h"

namespace xop {

enum class StatementGrouping { kSession, kServer, kDay };

struct StatementSummaryRow {
  std::string key;  // the session id, the server's account id, or the day "YYYY-MM-DD" (UTC)
  int64_t records = 0;
  Usage used;
  int64_t claimed = 0;  // what the servers' records claimed, micro-credits
  int64_t charged = 0;  // what the corp charged for them, micro-credits (at most `claimed`)
};

// Rows sorted by key (days, hence, in time order). kInvalidArgument when a total overflows 64 bits
// (no statement of the corp's does; a hostile one might).
Result<std::vector<StatementSummaryRow>> summarize_statement(const StatementView& s, StatementGrouping by);

// "YYYY-MM-DD" of the UTC day holding `t` (ms since the epoch; negative times too).
std::string utc_date(int64_t t_ms);

// One CSV field as RFC 4180 writes it: quoted (with doubled quotes) when it holds a comma, quote,
// CR or LF, or begins with a character spreadsheets run as a formula (= + - @), which is prefixed
// with a quote mark inside the quotes instead.
std::string csv_field(std::string_view v);

// "12.345678" for 12 345 678 micro-credits (a leading '-' when negative).
std::string credits_decimal(int64_t micros);

// CSV with a header line; CRLF line ends (RFC 4180).
std::string summary_csv(const std::vector<StatementSummaryRow>& rows, StatementGrouping by);
// Every usage record, one line each: po_id, server, session, seq, period start and end (ms and
// ISO-8601 UTC), the usage, claimed and charged (micros and credits), final.
std::string records_csv(const StatementView& s);

}  // namespace xop
