#include "core/timeline.h"

#include <cstdio>

namespace dtrain {

namespace {

// Names are ours (layer and model names from model specs among them): escape what JSON needs.
void append_escaped(std::string& out, const std::string& text) {
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char code[8];
      std::snprintf(code, sizeof code, "\\u%04x", static_cast<unsigned>(c));
      out += code;
    } else {
      out += c;
    }
  }
}

}  // namespace

double Timeline::micros(Clock::time_point t) const {
  return std::chrono::duration<double, std::micro>(t - origin_).count();
}

void Timeline::span(Thread thread, std::string name, const char* category, Clock::time_point begin,
                    Clock::time_point end, std::string args) {
  Event e{std::move(name), category, thread, 'X', micros(begin), micros(end) - micros(begin),
          std::move(args)};
  std::lock_guard lock(mutex_);
  events_.push_back(std::move(e));
}

void Timeline::instant(Thread thread, std::string name, const char* category, Clock::time_point at,
                       std::string args) {
  Event e{std::move(name), category, thread, 'i', micros(at), 0.0, std::move(args)};
  std::lock_guard lock(mutex_);
  events_.push_back(std::move(e));
}

std::size_t Timeline::size() const {
  std::lock_guard lock(mutex_);
  return events_.size();
}

std::string Timeline::trace_events(int rank) const {
  std::lock_guard lock(mutex_);
  std::string out;
  out.reserve(events_.size() * 128 + 256);
  char head[256];
  std::snprintf(
      head, sizeof head,
      "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"args\":{\"name\":\"rank %d\"}},"
      "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":"
      "\"main\"}},"
      "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":1,\"args\":{\"name\":"
      "\"communication\"}}",
      rank, rank, rank, rank);
  out += head;
  for (const Event& e : events_) {
    out += ",{\"name\":\"";
    append_escaped(out, e.name);
    char fields[192];
    if (e.phase == 'X') {
      std::snprintf(fields, sizeof fields,
                    "\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f",
                    e.category, rank, static_cast<int>(e.thread), e.ts_us, e.dur_us);
    } else {
      std::snprintf(fields, sizeof fields,
                    "\",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f",
                    e.category, rank, static_cast<int>(e.thread), e.ts_us);
    }
    out += fields;
    if (!e.args.empty()) {
      out += ",\"args\":{";
      out += e.args;
      out += '}';
    }
    out += '}';
  }
  return out;
}

std::string Timeline::trace_file(const std::vector<std::string>& rank_parts) {
  std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  for (std::size_t r = 0; r < rank_parts.size(); ++r) {
    if (r > 0) out += ",\n";
    out += rank_parts[r];
  }
  out += "\n]}\n";
  return out;
}

}  // namespace dtrain
