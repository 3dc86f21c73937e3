@dialects
Feature: The run's dialect really lacks what its profile says
  A profile cannot hide a bug by declaring a capability absent: under `certify --profile NAME`
  the system under test must refuse each capability the dialect lacks with 501, before anything
  else, changing nothing. Under a dialect that lacks nothing (the canonical one) there is nothing
  to probe, and the scenario is unimplemented.

  Scenario: Every operation the run's dialect lacks is refused with 501
    Given users alice and bob
    And alice calls bob
    And bob accepts
    Then alice is refused every operation the dialect lacks
    And nobody sees anything more
