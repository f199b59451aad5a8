#pragma once
// chatd runs one event loop per I/O thread (app.cpp). Work that belongs with a connection (an
// answer, its upstream request) is started on the loop that connection lives on.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/strand.hpp>

namespace chatd {

// The event loop under an executor, without the strand it may be wrapped in.
inline boost::asio::any_io_executor loop_of(const boost::asio::any_io_executor& ex) {
    namespace asio = boost::asio;
    if (auto* s = ex.target<asio::strand<asio::io_context::executor_type>>()) return s->get_inner_executor();
    if (auto* s = ex.target<asio::strand<asio::any_io_executor>>()) return s->get_inner_executor();
    return ex;
}

// Which loop: the same value for every executor of one event loop.
inline const void* loop_id(const boost::asio::any_io_executor& ex) {
    return &boost::asio::query(loop_of(ex), boost::asio::execution::context);
}

}  // namespace chatd
