#include "store/postgres/pg.hpp"

#include "store/postgres/values.hpp"

#include <charconv>
#include <regex>

namespace chatd::store::pg {

std::string_view result::text(int row, int column) const {
    return {PQgetvalue(r_.get(), row, column), static_cast<std::size_t>(PQgetlength(r_.get(), row, column))};
}

std::int64_t result::integer(int row, int column) const {
    auto t = text(row, column);
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc{} || end != t.data() + t.size())
        throw error("not an integer in column " + std::string(PQfname(r_.get(), column)) + ": " + std::string(t));
    return v;
}

std::int64_t result::affected() const {
    const char* n = PQcmdTuples(r_.get());
    return n && *n ? std::stoll(n) : 0;
}

namespace {

// Defaults first: the settings `url` expands to come after and win.
PGconn* open(const std::string& url) {
    const char* keywords[] = {"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                              "dbname", nullptr};
    const char* values[] = {"10", "30", "10", "3", url.c_str(), nullptr};
    return PQconnectdbParams(keywords, values, 1);
}

}  // namespace

connection::connection(const std::string& url) : conn_(open(url), &PQfinish) {
    if (!conn_) throw error("out of memory connecting to PostgreSQL");
    if (PQstatus(conn_.get()) != CONNECTION_OK)
        throw error("cannot connect to PostgreSQL at " + redact_url(url) + ": " + last_error());
    // Quiet NOTICEs (CREATE … IF NOT EXISTS and the like) instead of libpq printing them.
    PQsetNoticeProcessor(conn_.get(), [](void*, const char*) {}, nullptr);
}

bool connection::reconnect() {
    PQreset(conn_.get());
    prepared_.clear();  // a new session has none
    return healthy();
}

std::string connection::last_error() const {
    std::string why = PQerrorMessage(conn_.get());
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return why;
}

result connection::check(PGresult* r) {
    result out(r);
    auto status = PQresultStatus(r);
    if (r && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN)) return out;
    std::string why = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_.get());
    while (!why.empty() && why.back() == '\n') why.pop_back();
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    throw error(why.empty() ? "PostgreSQL request failed" : why, state ? state : "");
}

result connection::exec(std::string_view sql) { return check(PQexec(conn_.get(), std::string(sql).c_str())); }

result connection::exec(std::string_view sql, const std::vector<param>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    const int n = static_cast<int>(values.size());
    std::string text(sql);
    auto it = prepared_.find(text);
    if (it == prepared_.end() && prepared_.size() < max_prepared) {
        std::string name = "chatd_" + std::to_string(prepared_.size());
        check(PQprepare(conn_.get(), name.c_str(), text.c_str(), n, nullptr));
        it = prepared_.emplace(std::move(text), std::move(name)).first;
    }
    if (it == prepared_.end())
        return check(PQexecParams(conn_.get(), text.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0));
    return check(PQexecPrepared(conn_.get(), it->second.c_str(), n, values.data(), nullptr, nullptr, 0));
}

connection::copy_in connection::copy(std::string_view table, const std::vector<std::string>& columns) {
    std::string sql = "COPY " + quote_identifier(table) + " (";
    for (std::size_t i = 0; i < columns.size(); ++i) sql += (i ? ", " : "") + quote_identifier(columns[i]);
    sql += ") FROM STDIN";
    return copy_in(*this, sql);
}

connection::copy_in::copy_in(connection& c, std::string_view sql) : c_(c) {
    c_.check(PQexec(c_.handle(), std::string(sql).c_str()));
}

void connection::copy_in::row(const std::vector<param>& values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) pending_ += '\t';
        if (!values[i]) {
            pending_ += "\\N";
            continue;
        }
        for (char ch : *values[i]) {
            switch (ch) {
                case '\\': pending_ += "\\\\"; break;
                case '\t': pending_ += "\\t"; break;
                case '\n': pending_ += "\\n"; break;
                case '\r': pending_ += "\\r"; break;
                default: pending_ += ch;
            }
        }
    }
    pending_ += '\n';
    if (pending_.size() >= 1 << 16) flush();
}

void connection::copy_in::flush() {
    if (pending_.empty()) return;
    if (PQputCopyData(c_.handle(), pending_.data(), static_cast<int>(pending_.size())) != 1)
        throw error(std::string("COPY failed: ") + PQerrorMessage(c_.handle()));
    pending_.clear();
}

void connection::copy_in::finish() {
    flush();
    if (PQputCopyEnd(c_.handle(), nullptr) != 1)
        throw error(std::string("COPY failed: ") + PQerrorMessage(c_.handle()));
    // The verdict comes as one result, then the end of results.
    std::optional<error> failure;
    while (PGresult* r = PQgetResult(c_.handle())) {
        try {
            c_.check(r);
        } catch (const error& e) {
            if (!failure) failure = e;
        }
    }
    if (failure) throw *failure;
}

transaction::transaction(connection& c) : c_(c) {
    nested_ = PQtransactionStatus(c_.handle()) != PQTRANS_IDLE;
    c_.exec(nested_ ? "SAVEPOINT chatd_nested" : "BEGIN");
}

transaction::~transaction() {
    if (done_) return;
    try {
        c_.exec(nested_ ? "ROLLBACK TO SAVEPOINT chatd_nested; RELEASE SAVEPOINT chatd_nested" : "ROLLBACK");
    } catch (const error&) {
        // The connection is gone: the server rolled back on its own.
    }
}

void transaction::commit() {
    c_.exec(nested_ ? "RELEASE SAVEPOINT chatd_nested" : "COMMIT");
    done_ = true;
}

double real(const result& r, int row, int column) {
    if (r.is_null(row, column)) return 0;
    auto t = r.text(row, column);
    double v = 0;
    std::from_chars(t.data(), t.data() + t.size(), v);
    return v;
}

std::string quote_identifier(std::string_view name) {
    std::string out = "\"";
    for (char ch : name) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return out + "\"";
}

std::string redact_url(std::string_view url) {
    static const std::regex uri_password(R"(^(postgres(?:ql)?://[^:/@]*:)[^@]*@)");
    static const std::regex keyword_password(R"((\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+))");
    std::string s = std::regex_replace(std::string(url), uri_password, "$1***@");
    return std::regex_replace(s, keyword_password, "$1***");
}

}  // namespace chatd::store::pg
