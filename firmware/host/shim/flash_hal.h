// Host stand-in for cores/esp8266/flash_hal.h: where the EEPROM library's sector starts and
// where the filesystem ends. On the chip these are the addresses of the linker symbols
// _EEPROM_start and _FS_end, in the window where flash is mapped from 0x40200000; here they are
// those of d1_mini's default layout (eagle.flash.4m1m.ld: the filesystem ends at flash offset
// 0x3FA000, aligned down to its 8 KiB block, and the EEPROM sector is at 0x3FB000).
#pragma once

#include <stdint.h>

#define EEPROM_start ((uint32_t)0x405FB000)
#define FS_end ((uint32_t)0x405FA000)

// Where esp-certs' own flash layout (esp-certs.flash.4m1m.ld) puts the credential sectors: its
// linker symbol _ESP_CERTS_CRED_start, 8 KiB below the EEPROM sector. 0 stands for a core
// layout, which has no such symbol. `make LAYOUT=own` builds the former (docs/rehearsal.md).
#ifdef ESP_CERTS_REHEARSAL_OWN_LAYOUT
#define ESP_CERTS_CRED_START ((uint32_t)(EEPROM_start - 0x2000))
#else
#define ESP_CERTS_CRED_START ((uint32_t)0)
#endif
