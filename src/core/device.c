/* Device list: registration in wiring order, reset in the same order. */
#include "core/device.h"

#include <stddef.h>

void device_register(DeviceList *list, Device *dev)
{
    Device **p = &list->head;
    while (*p) p = &(*p)->next;
    dev->next = NULL;
    *p = dev;
}

void device_reset_all(DeviceList *list)
{
    for (Device *d = list->head; d; d = d->next)
        if (d->reset) d->reset(d);
}
