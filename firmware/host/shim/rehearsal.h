// Internal to the shim; the firmware never sees it.
#pragma once

// Seconds since the run started (the host's monotonic clock).
double rehearsalSeconds();

// The span the handshake benchmark measures.
// Under `valgrind --tool=callgrind --instr-atstart=no`, instructions are counted from
// the TLS client's start (after the TCP connect) to the MQTT CONNACK, one dump per connection.
void rehearsalMeasureBegin();
void rehearsalMeasureEnd();
