/* The header every device embeds: name and lifecycle hooks. No object model: boards wire
 * devices explicitly and keep them on a list for reset, save/restore and description. */
#ifndef CORE_DEVICE_H
#define CORE_DEVICE_H

#include <stdio.h>

typedef struct Device Device;
struct Device {
    const char *name;
    void (*reset)(Device *dev);
    void (*describe)(Device *dev, FILE *out); /* one-line state summary for monitors */
    Device *next;
};

typedef struct DeviceList {
    Device *head;
} DeviceList;

void device_register(DeviceList *list, Device *dev);
void device_reset_all(DeviceList *list);

#endif
