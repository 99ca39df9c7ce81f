// Host stand-in for cores/esp8266/flash_hal.h: where the EEPROM library's sector starts.
// On the chip EEPROM_start is the address of the linker symbol _EEPROM_start, in the window
// where flash is mapped from 0x40200000; here it is that address for d1_mini's default
// layout (eagle.flash.4m1m.ld: the sector at flash offset 0x3FB000).
#pragma once

#include <stdint.h>

#define EEPROM_start ((uint32_t)0x405FB000)
