#pragma once
// A thin RAII layer over libpq: a connection, statements with text parameters, results and
// transactions. Every value crosses as text; PostgreSQL casts it to the column's type.
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chatd::store::pg {

class error : public std::runtime_error {
  public:
    error(const std::string& message, std::string sqlstate = {})
        : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
    // Five characters (23505: unique violation…); empty when the server sent none.
    const std::string& sqlstate() const { return sqlstate_; }

  private:
    std::string sqlstate_;
};

// A statement's parameter; nullopt is SQL NULL.
using param = std::optional<std::string>;

class result {
  public:
    explicit result(PGresult* r) : r_(r, &PQclear) {}

    int rows() const { return PQntuples(r_.get()); }
    int columns() const { return PQnfields(r_.get()); }
    bool is_null(int row, int column) const { return PQgetisnull(r_.get(), row, column) != 0; }
    std::string_view text(int row, int column) const;
    std::int64_t integer(int row, int column) const;
    // Rows an INSERT, UPDATE or DELETE touched.
    std::int64_t affected() const;

  private:
    std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

class connection {
  public:
    // `url`: a libpq connection string or postgresql:// URI. Throws error with libpq's reason.
    // Unless `url` says otherwise, connecting gives up after 10 s and a silent server is
    // noticed within about a minute (TCP keepalives).
    explicit connection(const std::string& url);
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // One or more statements without parameters.
    result exec(std::string_view sql);
    // One statement with $1… parameters. Prepared once per connection (the first
    // `max_prepared` distinct texts) and reused: planning costs more than most of them run.
    result exec(std::string_view sql, const std::vector<param>& params);

    // COPY table (columns) FROM STDIN in text format, one row per call of `row`.
    class copy_in;
    copy_in copy(std::string_view table, const std::vector<std::string>& columns);

    PGconn* handle() { return conn_.get(); }

    bool healthy() const { return PQstatus(conn_.get()) == CONNECTION_OK; }
    // Reopens a broken connection with the same settings; false while the server is away.
    bool reconnect();
    // libpq's last word on this connection.
    std::string last_error() const;

  private:
    result check(PGresult* r);
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
    static constexpr std::size_t max_prepared = 512;
    std::unordered_map<std::string, std::string> prepared_;  // SQL text → statement name
};

class connection::copy_in {
  public:
    copy_in(connection& c, std::string_view sql);
    void row(const std::vector<param>& values);
    // Sends the end of the data and waits for the server's verdict.
    void finish();

  private:
    void flush();
    connection& c_;
    std::string pending_;
};

// A transaction that nests, as the store's methods need: BEGIN…COMMIT when none is open,
// else SAVEPOINT…RELEASE inside the caller's (the ledger port's atomically(), a batch), so a
// part can roll back alone. Rolls back unless commit() ran.
class transaction {
  public:
    explicit transaction(connection& c);
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    ~transaction();
    void commit();

  private:
    connection& c_;
    bool nested_ = false;
    bool done_ = false;
};

// A double quoted identifier, for table and column names that come from a schema.
std::string quote_identifier(std::string_view name);

// `url` with any password replaced by ***, fit for messages and logs.
std::string redact_url(std::string_view url);

}  // namespace chatd::store::pg
