// The span the handshake benchmark measures. Internal to the shim; the firmware never sees it.
#pragma once

// Under `valgrind --tool=callgrind --instr-atstart=no`, instructions are counted from
// the TLS client's start (after the TCP connect) to the MQTT CONNACK, one dump per connection.
void rehearsalMeasureBegin();
void rehearsalMeasureEnd();
