// Internal to the shim; the firmware never sees it.
#pragma once

// Seconds since the run started (the host's monotonic clock).
double rehearsalSeconds();

// The spans the benchmarks measure.
// Under `valgrind --tool=callgrind --instr-atstart=no`, instructions are counted from
// the TLS client's start (after the TCP connect) to the MQTT CONNACK, one dump per connection;
// with ESP_CERTS_MEASURE=wake instead, from the start of the run to ESP.deepSleep(), one dump
// per wake; with ESP_CERTS_MEASURE=renewal, the handling of each message on `<id>/esp-certs/cert`
// (the firmware's checks and its flash writes), one dump per message.
void rehearsalMeasureBegin();
void rehearsalMeasureEnd();
void rehearsalWakeEnd();
void rehearsalRenewalBegin();
void rehearsalRenewalEnd();
