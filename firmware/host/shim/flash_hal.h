// Host stand-in for cores/esp8266/flash_hal.h: where the EEPROM library's sector starts and
// where the filesystem ends. On the chip these are the addresses of the linker symbols
// _EEPROM_start and _FS_end, in the window where flash is mapped from 0x40200000; here they are
// those of d1_mini's default layout (eagle.flash.4m1m.ld: the filesystem ends at flash offset
// 0x3FA000, aligned down to its 8 KiB block, and the EEPROM sector is at 0x3FB000).
#pragma once

#include <stdint.h>

#define EEPROM_start ((uint32_t)0x405FB000)
#define FS_end ((uint32_t)0x405FA000)
